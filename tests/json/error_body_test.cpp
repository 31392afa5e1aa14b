#include <catch2/catch.hpp>

#include "fakes/test_files.h"
#include "json/decode.h"

using namespace rcw;

namespace {
ApiErrorBody MustDecode(std::string_view body) {
  std::optional<ApiErrorBody> e = DecodeErrorBody(body);
  INFO(body);
  REQUIRE(e.has_value());
  return *e;
}
}  // namespace

TEST_CASE("seed error bodies decode verbatim") {
  ApiErrorBody e401 = MustDecode(testing::ReadSourceFile("tests/data/api/cancel_401.json"));
  CHECK(e401.code == "HeaderNotFound");
  CHECK(e401.message == "Header Authorization was not found in the request. Access denied.");
  CHECK(e401.details.empty());

  ApiErrorBody e404 = MustDecode(testing::ReadSourceFile("tests/data/api/cancel_404.json"));
  CHECK(e404.code == "JobNotFound");
  CHECK(e404.message == "Requested job is not available.");

  ApiErrorBody e422 = MustDecode(testing::ReadSourceFile("tests/data/api/cancel_422.json"));
  CHECK(e422.code == "InvalidRealityConversionRequest");
  CHECK(e422.message == "Invalid request to Reality Conversion.");
  REQUIRE(e422.details.size() == 1);
  CHECK(e422.details[0].code == "InvalidChange");
  CHECK(e422.details[0].target.empty());
  CHECK(e422.details[0].message.rfind("The job is about to complete.", 0) == 0);

  ApiErrorBody e429 = MustDecode(testing::ReadSourceFile("tests/data/api/cancel_429.json"));
  CHECK(e429.code == "RateLimitExceeded");
}

TEST_CASE("OAuth and gateway error shapes") {
  ApiErrorBody oauth =
      MustDecode(testing::ReadSourceFile("tests/data/api/token_400_invalid_client.json"));
  CHECK(oauth.code == "invalid_client");
  CHECK(oauth.message == "The client credentials are invalid.");
  ApiErrorBody bare = MustDecode(R"({"error":"invalid_scope"})");
  CHECK(bare.code == "invalid_scope");
  CHECK(bare.message.empty());
  ApiErrorBody gateway = MustDecode(
      R"({"statusCode":401,"message":"Access denied due to invalid subscription key."})");
  CHECK(gateway.code.empty());
  CHECK(gateway.message == "Access denied due to invalid subscription key.");
}

TEST_CASE("any field may be missing or null or of another type") {
  ApiErrorBody empty = MustDecode(R"({"error":{}})");
  CHECK(empty.code.empty());
  CHECK(empty.details.empty());
  ApiErrorBody odd = MustDecode(
      R"({"error":{"code":null,"message":5,"target":"id","details":[null,3,{"code":"InvalidChange"},{"message":"m","target":null}]}})");
  CHECK(odd.code.empty());
  CHECK(odd.message.empty());
  CHECK(odd.target == "id");
  REQUIRE(odd.details.size() == 2);
  CHECK(odd.details[0].code == "InvalidChange");
  CHECK(odd.details[1].message == "m");
  CHECK(MustDecode(R"({"error":{"code":"X","details":null}})").code == "X");
  CHECK(MustDecode(R"({"error":{"code":"X","details":{"code":"Y"}}})").details.empty());
}

TEST_CASE("bodies that are not an error envelope give nullopt") {
  for (const char* body :
       {"", "<html><head><title>502 Bad Gateway</title></head></html>", "upstream connect error",
        "[]", "null", "{}", R"({"foo":1})", R"({"error":null})", R"({"error":{"code":"X"})",
        R"({"error":"x"} trailing)"}) {
    INFO(body);
    CHECK_FALSE(DecodeErrorBody(body).has_value());
  }
}
