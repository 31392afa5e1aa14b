#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "base/timefmt.h"
#include "fakes/test_files.h"
#include "json/decode.h"

using namespace rcw;

namespace {

struct Page {
  Status status;
  std::vector<Job> jobs;
  std::optional<std::string> next;
};

Page Decode(std::string_view body) {
  Page page;
  page.next = "sentinel";  // must be overwritten either way
  page.status = DecodeJobPage(
      body, [&](Job&& job) { page.jobs.push_back(std::move(job)); }, page.next);
  return page;
}

TimePoint At(const char* text) { return *ParseTimestamp(text); }

// A one-job page whose job object has `fields` (already JSON) after the id.
std::string OneJob(const std::string& fields) { return R"({"jobs":[{"id":"j1",)" + fields + "}]}"; }
const std::string kMinimal =
    R"("state":"Active","executionInfo":{"createdDateTime":"2026-04-05T14:04:56Z"})";

std::string ErrorOf(std::string_view body) {
  Page page = Decode(body);
  INFO(body);
  REQUIRE_FALSE(page.status.ok());
  CHECK(page.status.code() == StatusCode::kBadResponse);
  CHECK_FALSE(page.next.has_value());
  return page.status.message();
}

}  // namespace

TEST_CASE("a list page with the API example jobs decodes field by field") {
  Page page = Decode(testing::ReadSourceFile("tests/data/api/list_page_1.json"));
  REQUIRE(page.status.ok());
  REQUIRE(page.jobs.size() == 3);

  const Job& done = page.jobs[0];
  CHECK(done.id == "eba823ca-f8e3-4ebb-be5f-6bc77aadbe14");
  CHECK(done.state == JobState::kSuccess);
  CHECK(done.type == JobType::kPointCloudConversion);
  CHECK(done.name == "PointCloudConversion Job");
  CHECK(done.user_id == "e263a543-db55-4fa5-8a4e-69b9cfcf6c59");
  CHECK(done.itwin_id == "ce54f773-67db-4b4f-a98b-368329107429");
  CHECK(done.created == At("2026-04-01T09:48:28Z"));
  CHECK(done.started == At("2026-04-01T09:56:14Z"));
  CHECK(done.ended == At("2026-04-01T10:07:49Z"));
  REQUIRE(done.processing_units.has_value());
  CHECK(*done.processing_units == 0.0);
  CHECK(done.raw_state.empty());
  CHECK(done.raw_type.empty());

  const Job& active = page.jobs[1];
  CHECK(active.state == JobState::kActive);
  CHECK(active.type == JobType::kMeshSampling);
  CHECK(active.name.empty());  // "name": null
  CHECK(active.created == At("2026-04-04T13:57:24Z"));
  CHECK(active.started == At("2026-04-04T13:58:01Z"));
  CHECK_FALSE(active.ended.has_value());
  CHECK_FALSE(active.processing_units.has_value());  // absent

  const Job& queued = page.jobs[2];
  CHECK(queued.state == JobState::kQueued);
  CHECK(queued.name.empty());               // absent
  CHECK_FALSE(queued.started.has_value());  // null
  CHECK_FALSE(queued.ended.has_value());
  CHECK_FALSE(queued.processing_units.has_value());  // null

  REQUIRE(page.next.has_value());
  CHECK(*page.next ==
        "https://api.bentley.com/reality-conversion/jobs?$filter=iTwinId%20eq%20"
        "ce54f773-67db-4b4f-a98b-368329107429&$top=3&continuationToken=MTRmZDkwZTAtY2Q5Yi00");
}

TEST_CASE("the last page has no next link and offsets and 7-digit fractions apply") {
  Page page = Decode(testing::ReadSourceFile("tests/data/api/list_page_last.json"));
  REQUIRE(page.status.ok());
  CHECK_FALSE(page.next.has_value());
  REQUIRE(page.jobs.size() == 1);
  const Job& job = page.jobs[0];
  CHECK(job.state == JobState::kFailed);
  CHECK(job.type == JobType::kTileMapOptimization);
  CHECK(job.name == "nightly-mesh");
  CHECK(FormatTimestampMs(*job.started) == "2026-04-01T11:00:00.500Z");
  CHECK(FormatTimestampMs(*job.ended) == "2026-04-01T09:02:00.250Z");  // +02:00
  CHECK(job.processing_units == 0.0);
}

TEST_CASE("every spelling of no next page ends the listing") {
  for (const char* links : {"", R"(,"_links":null)", R"(,"_links":{})",
                            R"(,"_links":{"next":null})", R"(,"_links":{"self":{"href":"x"}})"}) {
    INFO(links);
    Page page = Decode(std::string(R"({"jobs":[])") + links + "}");
    CHECK(page.status.ok());
    CHECK(page.jobs.empty());
    CHECK_FALSE(page.next.has_value());
  }
}

TEST_CASE("_links before jobs is fine and a broken link fails the page before any job") {
  Page page =
      Decode(R"({"_links":{"next":{"href":"https://h/jobs?c=2"}},)" + OneJob(kMinimal).substr(1));
  REQUIRE(page.status.ok());
  CHECK(page.next == "https://h/jobs?c=2");
  CHECK(page.jobs.size() == 1);

  Page bad = Decode(R"({"_links":{"next":{"href":""}},)" + OneJob(kMinimal).substr(1));
  CHECK(bad.status.message() == "_links.next.href: empty");
  CHECK(bad.jobs.empty());
  CHECK(ErrorOf(R"({"jobs":[],"_links":{"next":{"href":7}}})") ==
        "_links.next.href: expected a string, got a number");
  CHECK(ErrorOf(R"({"jobs":[],"_links":{"next":"https://h/x"}})") ==
        "_links.next: expected an object or null, got a string");
  CHECK(ErrorOf(R"({"jobs":[],"_links":{"next":{}}})") == "_links.next.href: missing");
  CHECK(ErrorOf(R"({"jobs":[],"_links":[]})") ==
        "_links: expected an object or null, got an array");
}

TEST_CASE("processingUnits may be integer or float or zero or null or absent") {
  auto units = [](const std::string& value) {
    Page page = Decode(
        OneJob(R"("state":"Success","executionInfo":{"createdDateTime":"2026-04-05T14:04:56Z")" +
               value + "}"));
    REQUIRE(page.status.ok());
    return page.jobs.at(0).processing_units;
  };
  CHECK(units(R"(,"processingUnits":0)") == 0.0);
  CHECK(units(R"(,"processingUnits":0.0)") == 0.0);
  CHECK(units(R"(,"processingUnits":7)") == 7.0);
  CHECK(units(R"(,"processingUnits":12.75)") == 12.75);
  CHECK(units(R"(,"processingUnits":18446744073709551615)") > 1e19);
  CHECK_FALSE(units(R"(,"processingUnits":null)").has_value());
  CHECK_FALSE(units("").has_value());
}

TEST_CASE("bad processingUnits fail the page naming the job and field") {
  auto with = [](const std::string& value) {
    return OneJob(R"("state":"Success","executionInfo":{"createdDateTime":"2026-04-05T14:04:56Z",)"
                  R"("processingUnits":)" +
                  value + "}");
  };
  CHECK(ErrorOf(with("-1")) == "jobs[0].executionInfo.processingUnits: -1 is negative");
  CHECK(ErrorOf(with("\"12\"")) ==
        "jobs[0].executionInfo.processingUnits: expected a number, got a string");
  CHECK_THAT(ErrorOf(with("1e999")), Catch::Contains("malformed number"));
}

TEST_CASE("unknown states and types are kept with their text and not rejected") {
  Page page = Decode(OneJob(
      R"("state":"Paused","type":"GaussianSplatting","executionInfo":{"createdDateTime":"2026-04-05T14:04:56Z"})"));
  REQUIRE(page.status.ok());
  const Job& job = page.jobs.at(0);
  CHECK(job.state == JobState::kUnknown);
  CHECK(job.raw_state == "Paused");
  CHECK(job.StateText() == "Paused");
  CHECK(job.type == JobType::kUnknown);
  CHECK(job.raw_type == "GaussianSplatting");
  // v1's lower-case states are not v2 states.
  Page v1 = Decode(
      OneJob(R"("state":"active","executionInfo":{"createdDateTime":"2026-04-05T14:04:56Z"})"));
  REQUIRE(v1.status.ok());
  CHECK(v1.jobs.at(0).state == JobState::kUnknown);
  // A missing or null type is unknown with no text.
  Page no_type = Decode(OneJob(kMinimal + R"(,"type":null)"));
  REQUIRE(no_type.status.ok());
  CHECK(no_type.jobs.at(0).type == JobType::kUnknown);
  CHECK(no_type.jobs.at(0).raw_type.empty());
}

TEST_CASE("unknown keys of any shape are skipped") {
  Page page = Decode(OneJob(
      kMinimal + R"(,"specifications":{"inputs":{"a":[1,2,{"b":null}]},"options":{"x":true}},)"
                 R"("costEstimation":[],"email":"a@b.c","executionInformation":5)"));
  REQUIRE(page.status.ok());
  CHECK(page.jobs.at(0).id == "j1");
  Page top = Decode(R"({"count":3,"jobs":[],"extra":{"deep":[[[]]]}})");
  CHECK(top.status.ok());
}

TEST_CASE("missing or malformed required fields name the job index and field") {
  std::string good =
      R"({"id":"ok","state":"Queued","executionInfo":{"createdDateTime":"2026-04-05T14:04:56Z"}})";
  auto page_with = [&](const std::string& bad_job) {
    return R"({"jobs":[)" + good + "," + bad_job + "]}";
  };
  CHECK(ErrorOf(page_with(
            R"({"id":"b","state":"Active","executionInfo":{"createdDateTime":"yesterday"}})")) ==
        R"(jobs[1].executionInfo.createdDateTime: "yesterday" is not an RFC 3339 timestamp)");
  CHECK(ErrorOf(page_with(R"({"id":"b","state":"Active","executionInfo":{}})")) ==
        "jobs[1].executionInfo.createdDateTime: missing");
  CHECK(ErrorOf(page_with(R"({"id":"b","state":"Active"})")) ==
        "jobs[1].executionInfo.createdDateTime: missing");
  CHECK(ErrorOf(page_with(
            R"({"state":"Active","executionInfo":{"createdDateTime":"2026-04-05T14:04:56Z"}})")) ==
        "jobs[1].id: missing");
  CHECK(
      ErrorOf(page_with(
          R"({"id":"","state":"Active","executionInfo":{"createdDateTime":"2026-04-05T14:04:56Z"}})")) ==
      "jobs[1].id: empty");
  CHECK(
      ErrorOf(page_with(
          R"({"id":42,"state":"Active","executionInfo":{"createdDateTime":"2026-04-05T14:04:56Z"}})")) ==
      "jobs[1].id: expected a string, got a number");
  CHECK(ErrorOf(page_with(
            R"({"id":"b","executionInfo":{"createdDateTime":"2026-04-05T14:04:56Z"}})")) ==
        "jobs[1].state: missing");
  CHECK(
      ErrorOf(page_with(
          R"({"id":"b","state":null,"executionInfo":{"createdDateTime":"2026-04-05T14:04:56Z"}})")) ==
      "jobs[1].state: expected a string, got null");
  CHECK(ErrorOf(
            page_with(R"({"id":"b","state":"Active","executionInfo":{"createdDateTime":null}})")) ==
        "jobs[1].executionInfo.createdDateTime: expected a timestamp, got null");
  CHECK(
      ErrorOf(page_with(
          R"({"id":"b","state":"Active","executionInfo":{"createdDateTime":"2026-04-05T14:04:56Z","startedDateTime":"soon"}})")) ==
      R"(jobs[1].executionInfo.startedDateTime: "soon" is not an RFC 3339 timestamp)");
  CHECK(ErrorOf(page_with(R"({"id":"b","state":"Active","executionInfo":[]})")) ==
        "jobs[1].executionInfo: expected an object, got an array");
  CHECK(
      ErrorOf(page_with(
          R"({"id":"b","state":"Active","name":5,"executionInfo":{"createdDateTime":"2026-04-05T14:04:56Z"}})")) ==
      "jobs[1].name: expected a string or null, got a number");
  CHECK(ErrorOf(page_with(R"("just a string")")) == "jobs[1]: expected an object, got a string");
}

TEST_CASE("a known key given twice in one job is refused") {
  CHECK(ErrorOf(OneJob(kMinimal + R"(,"state":"Success")")) == "jobs[0].state: duplicate key");
  CHECK(
      ErrorOf(OneJob(
          R"("state":"Active","executionInfo":{"createdDateTime":"2026-04-05T14:04:56Z","createdDateTime":"2026-04-06T14:04:56Z"})")) ==
      "jobs[0].executionInfo.createdDateTime: duplicate key");
  CHECK(ErrorOf(R"({"jobs":[],"jobs":[]})") == "jobs: duplicate key");
}

TEST_CASE("malformed bodies fail with a clear message") {
  std::string full = testing::ReadSourceFile("tests/data/api/list_page_1.json");
  CHECK_THAT(ErrorOf(full.substr(0, full.size() / 2)), Catch::Contains("not valid JSON"));
  CHECK_THAT(ErrorOf(full.substr(0, full.size() - 3)), Catch::Contains("truncated"));
  CHECK_THAT(ErrorOf("<html><body>502 Bad Gateway</body></html>"),
             Catch::Contains("not valid JSON"));
  CHECK_THAT(ErrorOf(R"({"jobs":[]} trailing)"), Catch::Contains("trailing data"));
  CHECK_THAT(ErrorOf(R"({"jobs":[]}{"jobs":[]})"), Catch::Contains("trailing data"));
  CHECK_THAT(ErrorOf(R"({"jobs":[],})"), Catch::Contains("not valid JSON"));
  CHECK(ErrorOf("") == "empty body");
  CHECK(ErrorOf("  \n") == "empty body");
  CHECK(ErrorOf("[]") == "body is not a JSON object (got an array)");
  CHECK(ErrorOf("null") == "body is not a JSON object (got null)");
  CHECK(ErrorOf("{}") == "jobs: missing");
  CHECK(ErrorOf(R"({"jobs":{}})") == "jobs: expected an array, got an object");
  CHECK(ErrorOf(R"({"jobs":null})") == "jobs: expected an array, got null");
  CHECK(ErrorOf("{\"jobs\":[],\"x\":\"\xff\"}") == "body is not valid UTF-8");
}

TEST_CASE("hostile nesting fails cleanly even inside skipped keys") {
  std::string deep(100000, '[');
  deep += std::string(100000, ']');
  CHECK(ErrorOf(R"({"jobs":[],"x":)" + deep + "}") ==
        "JSON nested deeper than " + std::to_string(kJsonMaxDepth) + " levels");
  std::string skipped = std::string(kJsonMaxDepth, '[') + std::string(kJsonMaxDepth, ']');
  CHECK_THAT(ErrorOf(OneJob(kMinimal + R"(,"specifications":)" + skipped)),
             Catch::Contains("nested deeper"));
  // Realistic depth is far below the limit.
  std::string ok = std::string(kJsonMaxDepth - 5, '[') + std::string(kJsonMaxDepth - 5, ']');
  CHECK(Decode(OneJob(kMinimal + R"(,"specifications":)" + ok)).status.ok());
}

TEST_CASE("PaddedJson borrows a buffer with room for the padding and copies otherwise") {
  std::string body = testing::ReadSourceFile("tests/data/api/list_page_last.json");
  std::string roomy;
  roomy.reserve(body.size() + kJsonPadding);
  roomy = body;
  PaddedJson borrowed = PaddedJson::Borrow(roomy);
  CHECK(borrowed.borrowed());
  CHECK(borrowed.view().data() == roomy.data());

  std::vector<Job> jobs;
  std::optional<std::string> next;
  PaddedJson moved = std::move(borrowed);
  REQUIRE(DecodeJobPage(
              moved, [&](Job&& j) { jobs.push_back(std::move(j)); }, next)
              .ok());
  CHECK(jobs.size() == 1);

  std::string tight = body;
  tight.shrink_to_fit();
  REQUIRE(tight.capacity() < tight.size() + kJsonPadding);
  PaddedJson copied = PaddedJson::Borrow(tight);
  CHECK_FALSE(copied.borrowed());
  CHECK(copied.view() == tight);
  CHECK(copied.view().data() != tight.data());
  PaddedJson copied_moved = std::move(copied);  // the owned buffer moves with it
  CHECK(copied_moved.view() == tight);
}

TEST_CASE("a callback may decode another body while a page is being walked") {
  std::string page = testing::ReadSourceFile("tests/data/api/list_page_1.json");
  std::string envelope = testing::ReadSourceFile("tests/data/api/cancel_200.json");
  std::vector<std::string> ids;
  std::optional<std::string> next;
  Status s = DecodeJobPage(
      page,
      [&](Job&& job) {
        ids.push_back(job.id.str());
        Result<Job> inner = DecodeJobEnvelope(envelope);
        REQUIRE(inner.ok());
        ids.push_back(inner->id.str());
      },
      next);
  REQUIRE(s.ok());
  REQUIRE(ids.size() == 6);
  CHECK(ids[2] == "86e93558-2b0b-4c43-9d63-0e7f2cdbb1a7");
  CHECK(ids[5] == "5e315451-564e-4e8b-a952-45b14e6a9c90");
  CHECK(next.has_value());
}

TEST_CASE("a page of 1000 jobs decodes completely") {
  std::string body = R"({"jobs":[)";
  for (int i = 0; i < 1000; ++i) {
    if (i) body += ',';
    body +=
        R"({"id":"job-)" + std::to_string(i) +
        R"(","state":"Active","type":"MeshSampling","executionInfo":{"createdDateTime":"2026-04-05T14:04:56Z"}})";
  }
  body += "]}";
  Page page = Decode(body);
  REQUIRE(page.status.ok());
  REQUIRE(page.jobs.size() == 1000);
  CHECK(page.jobs[999].id == "job-999");
}

TEST_CASE("the decoder reads every timestamp exactly as ParseTimestamp does") {
  // decode.cpp reads the API's two UTC spellings on a fast path and leaves
  // everything else to ParseTimestamp; both must agree on every input.
  std::vector<std::string> dates = {"2026-04-05", "2024-02-29", "2026-02-29", "2100-02-29",
                                    "2000-02-29", "2026-04-31", "2026-12-31", "2026-00-10",
                                    "2026-13-01", "2026-01-00", "0001-01-01", "9999-12-31",
                                    "2026-4-05",  "2026/04/05", "20a6-04-05"};
  std::vector<std::string> times = {"T14:04:56", "T00:00:00", "T23:59:59", "T24:00:00",
                                    "T23:60:00", "T23:59:60", "t14:04:56", " 14:04:56",
                                    "T14:04",    "T1a:04:56", "x14:04:56"};
  std::vector<std::string> fractions = {"", ".0000000", ".5", ".123456789", ".1234567891234", "."};
  std::vector<std::string> zones = {"Z",     "+00:00", "z",     "-00:00",  "+02:00", "-11:30",
                                    "+0000", "",       "Zjunk", "+00:00 ", "+24:00"};
  int compared = 0, accepted = 0;
  for (const auto& d : dates) {
    for (const auto& t : times) {
      for (const auto& f : fractions) {
        for (const auto& z : zones) {
          std::string text = d + t + f + z;
          Result<TimePoint> want = ParseTimestamp(text);
          Page page =
              Decode(R"({"jobs":[{"id":"j","state":"Active","executionInfo":{"createdDateTime":")" +
                     text + R"("}}]})");
          INFO(text);
          REQUIRE(page.status.ok() == want.ok());
          if (want.ok()) {
            CHECK(page.jobs.at(0).created == *want);
            ++accepted;
          } else {
            CHECK(page.status.message() ==
                  "jobs[0].executionInfo.createdDateTime: " + want.status().message());
          }
          ++compared;
        }
      }
    }
  }
  CHECK(compared == 15 * 11 * 6 * 11);
  CHECK(accepted > 200);
}

TEST_CASE("jobs of one page that share or change dates read as ParseTimestamp reads them") {
  // The decoder remembers the last date across the jobs of a page
  // (json/fast_timestamp.h): same date, next date, the two spellings, and an
  // impossible date right after a valid one with the same prefix.
  const std::vector<std::string> texts = {
      "2026-04-05T14:04:56Z",       "2026-04-05T13:00:00.1234567+00:00",
      "2026-04-05T00:00:00Z",       "2026-04-04T23:59:59.9999999+00:00",
      "2026-04-04T12:00:00+02:00",  "2024-02-29T08:00:00Z",
      "2024-02-29T09:00:00.5+00:00", "2026-03-01T00:00:00Z"};
  std::string body = R"({"jobs":[)";
  for (std::size_t i = 0; i < texts.size(); ++i) {
    if (i) body += ',';
    // createdDateTime shares its date with the previous job's endedDateTime.
    body += R"({"id":"j)" + std::to_string(i) +
            R"(","state":"Success","executionInfo":{"createdDateTime":")" + texts[i] +
            R"(","startedDateTime":")" + texts[i] + R"(","endedDateTime":")" +
            texts[(i + 1) % texts.size()] + R"("}})";
  }
  body += "]}";
  Page page = Decode(body);
  REQUIRE(page.status.ok());
  REQUIRE(page.jobs.size() == texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    INFO(i);
    CHECK(page.jobs[i].created == At(texts[i].c_str()));
    CHECK(page.jobs[i].started == At(texts[i].c_str()));
    CHECK(page.jobs[i].ended == At(texts[(i + 1) % texts.size()].c_str()));
  }

  const std::string valid =
      R"({"id":"a","state":"Success","executionInfo":{"createdDateTime":"2026-02-28T10:00:00Z"}})";
  for (const char* bad : {"2026-02-30T10:00:00Z", "2026-02-29T10:00:00.0000000+00:00",
                          "2026-02-28T24:00:00Z", "2262-02-28T10:00:00Z"}) {
    std::string two = R"({"jobs":[)" + valid +
                      R"(,{"id":"b","state":"Success","executionInfo":{"createdDateTime":")" +
                      bad + R"("}}]})";
    CHECK(ErrorOf(two) == "jobs[1].executionInfo.createdDateTime: " +
                              ParseTimestamp(bad).status().message());
  }
}

TEST_CASE("the vector overload appends the jobs the callback would deliver") {
  const std::string body = testing::ReadSourceFile("tests/data/api/list_page_1.json");
  Page page = Decode(body);
  REQUIRE(page.status.ok());

  std::vector<Job> jobs(1);
  jobs[0].id.assign("already-there");
  std::optional<std::string> next = "sentinel";
  REQUIRE(DecodeJobPage(PaddedJson::Copy(body), jobs, next).ok());
  CHECK(next == page.next);
  REQUIRE(jobs.size() == page.jobs.size() + 1);
  CHECK(jobs[0].id == "already-there");
  for (std::size_t i = 0; i < page.jobs.size(); ++i) {
    INFO(i);
    CHECK(jobs[i + 1].id == page.jobs[i].id);
    CHECK(jobs[i + 1].name == page.jobs[i].name);
    CHECK(jobs[i + 1].state == page.jobs[i].state);
    CHECK(jobs[i + 1].type == page.jobs[i].type);
    CHECK(jobs[i + 1].created == page.jobs[i].created);
    CHECK(jobs[i + 1].started == page.jobs[i].started);
    CHECK(jobs[i + 1].ended == page.jobs[i].ended);
    CHECK(jobs[i + 1].processing_units == page.jobs[i].processing_units);
  }
}

TEST_CASE("the vector overload keeps the jobs before a bad one and drops the bad one") {
  const std::string body =
      R"({"jobs":[{"id":"a","state":"Active","executionInfo":{"createdDateTime":"2026-02-28T10:00:00Z"}},)"
      R"({"id":"b","state":"Active","executionInfo":{"createdDateTime":"2026-02-30T10:00:00Z"}}],)"
      R"("_links":{"next":{"href":"https://example.com/next"}}})";
  std::vector<Job> jobs;
  std::optional<std::string> next = "sentinel";
  Status s = DecodeJobPage(PaddedJson::Copy(body), jobs, next);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message() == "jobs[1].executionInfo.createdDateTime: " +
                           ParseTimestamp("2026-02-30T10:00:00Z").status().message());
  CHECK_FALSE(next.has_value());
  REQUIRE(jobs.size() == 1);
  CHECK(jobs[0].id == "a");
  CHECK(jobs[0].created == At("2026-02-28T10:00:00Z"));
}

TEST_CASE("job, iTwin and user ids come out lower-cased, other text as sent") {
  std::string upper_job =
      R"({"id":"5E315451-564E-4E8B-A952-45B14E6A9C90","name":"Nightly-MESH",)"
      R"("iTwinId":"CE54F773-67db-4B4F-a98b-368329107429","userId":"E263A543-DB55-4FA5-8A4E-69B9CFCF6C59",)"
      R"("state":"Active","type":"MeshSampling",)"
      R"("executionInfo":{"createdDateTime":"2026-04-05T14:04:56Z"}})";
  std::string other_job =
      R"({"id":"already-lower-0123","iTwinId":null,"userId":"ÄB-Ü",)" + kMinimal;
  Page page = Decode(R"({"jobs":[)" + upper_job + "," + other_job +
                     R"(}],"_links":{"next":{"href":"https://x/jobs?continuationToken=AbC"}}})");
  REQUIRE(page.status.ok());
  REQUIRE(page.jobs.size() == 2);
  const Job& upper = page.jobs[0];
  CHECK(upper.id == "5e315451-564e-4e8b-a952-45b14e6a9c90");
  CHECK(upper.itwin_id == "ce54f773-67db-4b4f-a98b-368329107429");
  CHECK(upper.user_id == "e263a543-db55-4fa5-8a4e-69b9cfcf6c59");
  CHECK_FALSE(upper.id.on_heap());
  CHECK(upper.name == "Nightly-MESH");
  const Job& other = page.jobs[1];
  CHECK(other.id == "already-lower-0123");
  CHECK(other.itwin_id.empty());
  CHECK(other.user_id == "Äb-Ü");  // ASCII only: multi-byte UTF-8 is left alone
  CHECK(*page.next == "https://x/jobs?continuationToken=AbC");  // a link is not an id

  // Longer than any GUID (and than the inline buffer): still lowered, whole.
  std::string long_id(100, 'Q');
  Page big = Decode(R"({"jobs":[{"id":")" + long_id + R"(",)" + kMinimal + "}]}");
  REQUIRE(big.status.ok());
  REQUIRE(big.jobs.size() == 1);
  CHECK(big.jobs[0].id == std::string(100, 'q'));
}

TEST_CASE("the vector overload lowers ids too") {
  std::vector<Job> jobs;
  std::optional<std::string> next;
  std::string body = R"({"jobs":[{"id":"AB-CD","iTwinId":"EF",)" + kMinimal + "}]}";
  REQUIRE(DecodeJobPage(PaddedJson::Copy(body), jobs, next).ok());
  REQUIRE(jobs.size() == 1);
  CHECK(jobs[0].id == "ab-cd");
  CHECK(jobs[0].itwin_id == "ef");
}
