#include "api/url.h"

#include <catch2/catch.hpp>

using namespace rcw;

TEST_CASE("PercentEncode keeps only unreserved characters") {
  CHECK(PercentEncode("AZaz09-._~") == "AZaz09-._~");
  CHECK(PercentEncode("iTwinId eq ab-12") == "iTwinId%20eq%20ab-12");
  CHECK(PercentEncode("a+b&c=d/e?f#g%h'i(j)") == "a%2Bb%26c%3Dd%2Fe%3Ff%23g%25h%27i%28j%29");
  CHECK(PercentEncode("2026-11-22T10:00:00Z") == "2026-11-22T10%3A00%3A00Z");
  CHECK(PercentEncode("\xc3\xa9\x01") == "%C3%A9%01");
  CHECK(PercentEncode("") == "");
}

TEST_CASE("EncodeUnsafeUrlBytes leaves encoded URLs alone and fixes raw ones") {
  std::string encoded = "https://h/jobs?$filter=iTwinId%20eq%20x&$top=2&continuationToken=ab_-";
  CHECK(EncodeUnsafeUrlBytes(encoded) == encoded);
  CHECK(EncodeUnsafeUrlBytes("https://h/jobs?$filter=a eq 'b'") ==
        "https://h/jobs?$filter=a%20eq%20'b'");
  CHECK(EncodeUnsafeUrlBytes("x\r\ny\"<>\\^`{|}\x7f") == "x%0D%0Ay%22%3C%3E%5C%5E%60%7B%7C%7D%7F");
}

TEST_CASE("ParseOrigin reads scheme, host and port") {
  std::string_view path;
  auto o = ParseOrigin("HTTPS://API.Bentley.com/reality-conversion/jobs?x=1", &path);
  REQUIRE(o.has_value());
  CHECK(o->scheme == "https");
  CHECK(o->host == "api.bentley.com");
  CHECK(o->port == 443);
  CHECK(path == "/reality-conversion/jobs?x=1");
  CHECK(o->ToString() == "https://api.bentley.com:443");

  auto local = ParseOrigin("http://127.0.0.1:8080", &path);
  REQUIRE(local.has_value());
  CHECK(local->port == 8080);
  CHECK(path.empty());
  CHECK(ParseOrigin("http://h/x")->port == 80);
  CHECK(*ParseOrigin("https://h:443/a") == *ParseOrigin("https://H/b"));
  CHECK_FALSE(*ParseOrigin("http://h/a") == *ParseOrigin("https://h/a"));
  CHECK_FALSE(*ParseOrigin("https://h:8443/a") == *ParseOrigin("https://h/a"));

  auto v6 = ParseOrigin("https://[::1]:9443/x");
  REQUIRE(v6.has_value());
  CHECK(v6->host == "[::1]");
  CHECK(v6->port == 9443);
  CHECK(ParseOrigin("https://[::1]/x")->port == 443);
}

TEST_CASE("ParseOrigin refuses what could disguise the host") {
  for (const char* url :
       {"ftp://h/x", "file:///etc/passwd", "//h/x", "/jobs", "https://", "https:///x",
        "https://api.bentley.com@evil.example/x", "https://user:pw@h/x",
        "https://evil.example\\@api.bentley.com/", "https://h:0/", "https://h:99999/",
        "https://h:/", "https://h:12a/", "https://h%2e/", "https://h x/", "no scheme"}) {
    INFO(url);
    CHECK_FALSE(ParseOrigin(url).has_value());
  }
}
