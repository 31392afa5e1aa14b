#include <catch2/catch.hpp>

#include "base/timefmt.h"
#include "fakes/test_files.h"
#include "json/decode.h"

using namespace rcw;

TEST_CASE("seed DELETE 200 body decodes verbatim") {
  Result<Job> job = DecodeJobEnvelope(testing::ReadSourceFile("tests/data/api/cancel_200.json"));
  REQUIRE(job.ok());
  CHECK(job->id == "5e315451-564e-4e8b-a952-45b14e6a9c90");
  CHECK(job->state == JobState::kTerminatingOnCancel);
  CHECK(job->user_id == "3a8670f9-b69f-4a60-b958-f103d580755f");
  CHECK(job->created == *ParseTimestamp("2026-04-05T14:04:56Z"));
  CHECK_FALSE(job->started.has_value());
  CHECK_FALSE(job->ended.has_value());
  CHECK_FALSE(job->processing_units.has_value());
  CHECK(job->name == "PointCloudConversion Job");
  CHECK(job->type == JobType::kPointCloudConversion);
  CHECK(job->itwin_id == "ce54f773-67db-4b4f-a98b-368329107429");
}

TEST_CASE("envelope errors name the field under job") {
  auto error = [](std::string_view body) {
    Result<Job> r = DecodeJobEnvelope(body);
    INFO(body);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kBadResponse);
    return r.status().message();
  };
  CHECK(error(testing::ReadSourceFile("tests/data/api/list_page_last.json")) == "job: missing");
  CHECK(error(R"({"job":null})") == "job: expected an object, got null");
  CHECK(
      error(
          R"({"job":{"id":"x","state":"Active","executionInfo":{"createdDateTime":"2026-13-01T00:00:00Z"}}})") ==
      R"(job.executionInfo.createdDateTime: "2026-13-01T00:00:00Z" is not an RFC 3339 timestamp)");
  CHECK(
      error(
          R"({"job":{"state":"Active","executionInfo":{"createdDateTime":"2026-04-05T14:04:56Z"}}})") ==
      "job.id: missing");
  CHECK(error(testing::ReadSourceFile("tests/data/api/cancel_404.json")) == "job: missing");
  CHECK_THAT(error(R"({"job":{"id":"x"}} {"job":{}})"), Catch::Contains("not valid JSON"));
  CHECK(error("") == "empty body");
  CHECK(error("[1]") == "body is not a JSON object (got an array)");
}

TEST_CASE("a single job's ids come out lower-cased") {
  Result<Job> job = DecodeJobEnvelope(
      R"({"job":{"id":"5E315451-564E-4E8B-A952-45B14E6A9C90","iTwinId":"CE54F773-67DB-4B4F-A98B-368329107429",)"
      R"("userId":"3A8670F9-B69F-4A60-B958-F103D580755F","name":"PC Job","state":"Active",)"
      R"("executionInfo":{"createdDateTime":"2026-04-05T14:04:56Z"}}})");
  REQUIRE(job.ok());
  CHECK(job->id == "5e315451-564e-4e8b-a952-45b14e6a9c90");
  CHECK(job->itwin_id == "ce54f773-67db-4b4f-a98b-368329107429");
  CHECK(job->user_id == "3a8670f9-b69f-4a60-b958-f103d580755f");
  CHECK(job->name == "PC Job");
}
