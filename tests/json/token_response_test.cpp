#include <catch2/catch.hpp>

#include "fakes/test_files.h"
#include "json/decode.h"

using namespace rcw;

namespace {
std::string ErrorOf(std::string_view body) {
  Result<TokenResponse> r = DecodeTokenResponse(body);
  INFO(body);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kBadResponse);
  CHECK(r.status().message().find("tok-SECRET") == std::string::npos);
  return r.status().message();
}
}  // namespace

TEST_CASE("a token response decodes") {
  Result<TokenResponse> t =
      DecodeTokenResponse(testing::ReadSourceFile("tests/data/api/token_200.json"));
  REQUIRE(t.ok());
  CHECK(t->access_token.rfind("eyJhbGciOiJSUzI1NiIs", 0) == 0);
  CHECK(t->token_type == "Bearer");
  CHECK(t->expires_in == Seconds{3600});
}

TEST_CASE("expires_in may be a number or numeric string or float or missing") {
  auto expiry = [](const std::string& tail) {
    Result<TokenResponse> t = DecodeTokenResponse(R"({"access_token":"tok")" + tail + "}");
    INFO(tail);
    REQUIRE(t.ok());
    return t->expires_in;
  };
  CHECK(expiry(R"(,"expires_in":1800)") == Seconds{1800});
  CHECK(expiry(R"(,"expires_in":"1800")") == Seconds{1800});
  CHECK(expiry(R"(,"expires_in":59.9)") == Seconds{59});
  CHECK(expiry(R"(,"expires_in":"120.5")") == Seconds{120});
  CHECK(expiry("") == Seconds{3600});
  CHECK(expiry(R"(,"expires_in":null)") == Seconds{3600});
  CHECK(expiry(R"(,"expires_in":1e12)") == Seconds{365LL * 86400});
  Result<TokenResponse> no_type = DecodeTokenResponse(R"({"access_token":"tok"})");
  REQUIRE(no_type.ok());
  CHECK(no_type->token_type == "Bearer");
}

TEST_CASE("bad token responses fail without quoting the token") {
  CHECK(ErrorOf(R"({"access_token":"tok-SECRET","expires_in":"soon"})") ==
        "expires_in: expected a number, got a string");
  CHECK(ErrorOf(R"({"access_token":"tok-SECRET","expires_in":0})") ==
        "expires_in: must be at least 1 second");
  CHECK(ErrorOf(R"({"access_token":"tok-SECRET","expires_in":-60})") ==
        "expires_in: must be at least 1 second");
  CHECK(ErrorOf(R"({"access_token":"tok-SECRET","expires_in":true})") ==
        "expires_in: expected a number, got a boolean");
  CHECK(ErrorOf(R"({"access_token":"tok-SECRET","token_type":7})") ==
        "token_type: expected a string or null, got a number");
  CHECK(ErrorOf(R"({"token_type":"Bearer"})") == "access_token: missing");
  CHECK(ErrorOf(R"({"access_token":""})") == "access_token: empty");
  CHECK(ErrorOf(R"({"access_token":12345})") == "access_token: expected a string, got a number");
  CHECK_THAT(ErrorOf(R"({"access_token":"tok-SECRET")"), Catch::Contains("not valid JSON"));
  CHECK_THAT(ErrorOf("access_token=tok-SECRET&expires_in=3600"), Catch::Contains("not valid JSON"));
  CHECK(ErrorOf(R"(["tok-SECRET"])") == "body is not a JSON object (got an array)");
}
