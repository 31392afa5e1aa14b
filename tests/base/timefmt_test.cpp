#include "base/timefmt.h"

#include <catch2/catch.hpp>
#include <initializer_list>
#include <limits>

using namespace rcw;
using namespace std::chrono;

TEST_CASE("timestamps in both forms of Bentley's examples parse to the same instant") {
  auto a = ParseTimestamp("2026-04-01T09:56:14Z");
  auto b = ParseTimestamp("2026-04-01T09:56:14.0000000+00:00");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(*a == *b);
  CHECK(FormatTimestamp(*a) == "2026-04-01T09:56:14Z");
}

TEST_CASE("timestamp offsets and fractions are applied") {
  auto t = ParseTimestamp("2026-04-01T11:56:14.5+02:00");
  REQUIRE(t.ok());
  CHECK(FormatTimestampMs(*t) == "2026-04-01T09:56:14.500Z");
  auto neg = ParseTimestamp("2026-03-31T23:30:00-01:00");
  REQUIRE(neg.ok());
  CHECK(FormatTimestamp(*neg) == "2026-04-01T00:30:00Z");
  auto long_frac = ParseTimestamp("2026-04-01T09:56:14.123456789123Z");
  REQUIRE(long_frac.ok());
  CHECK(FormatTimestampMs(*long_frac) == "2026-04-01T09:56:14.123Z");
}

TEST_CASE("malformed timestamps are rejected with the text") {
  for (const char* bad : {"", "2026-04-01", "2026-04-01T09:56:14", "2026-02-30T00:00:00Z",
                          "2026-04-01T25:00:00Z", "2026-04-01T09:56:14.Z",
                          "2026-04-01T09:56:14Zjunk", "yesterday", "2026-04-01T09:56:14+0200"}) {
    auto r = ParseTimestamp(bad);
    INFO(bad);
    CHECK_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kBadResponse);
  }
}

TEST_CASE("HTTP dates in the three forms of RFC 9110") {
  auto imf = ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT");
  auto rfc850 = ParseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT");
  auto asc = ParseHttpDate("Sun Nov  6 08:49:37 1994");
  REQUIRE(imf.ok());
  REQUIRE(rfc850.ok());
  REQUIRE(asc.ok());
  CHECK(*imf == *rfc850);
  CHECK(*imf == *asc);
  CHECK(FormatHttpDate(*imf) == "Sun, 06 Nov 1994 08:49:37 GMT");
  CHECK_FALSE(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 PST").ok());
  CHECK_FALSE(ParseHttpDate("tomorrow").ok());
}

TEST_CASE("Retry-After as seconds or as a date") {
  auto now = *ParseTimestamp("2026-11-29T10:00:00Z");
  CHECK(ParseRetryAfter("30", now)->count() == 30);
  CHECK(ParseRetryAfter(" 7 ", now)->count() == 7);
  CHECK(ParseRetryAfter("Sun, 29 Nov 2026 10:01:00 GMT", now)->count() == 60);
  CHECK(ParseRetryAfter("Sun, 29 Nov 2026 09:59:00 GMT", now)->count() == 0);
  CHECK_FALSE(ParseRetryAfter("soon", now).ok());
  CHECK_FALSE(ParseRetryAfter("-5", now).ok());
  CHECK(ParseRetryAfter("99999999999999", now)->count() == 86400LL * 366);
}

TEST_CASE("durations accept s m h d and combinations") {
  CHECK(ParseDuration("90s")->count() == 90);
  CHECK(ParseDuration("30m")->count() == 1800);
  CHECK(ParseDuration("2h")->count() == 7200);
  CHECK(ParseDuration("1d")->count() == 86400);
  CHECK(ParseDuration("1h30m")->count() == 5400);
  CHECK(ParseDuration("0s")->count() == 0);
  CHECK(FormatDuration(Seconds{5400}) == "1h30m");
  CHECK(FormatDuration(Seconds{90061}) == "1d1h1m1s");
  CHECK(FormatDuration(Seconds{0}) == "0s");
}

TEST_CASE("bad durations say what is accepted") {
  auto r = ParseDuration("2 hours");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "\"2 hours\" is not a duration (use 90s, 30m, 2h, 1d)");
  for (const char* bad : {"", "90", "h", "1.5h", "-1h", "1w", "1h 30m", "99999999999d"}) {
    INFO(bad);
    CHECK_FALSE(ParseDuration(bad).ok());
  }
}

namespace {

// Each of `texts` is refused by ParseTimestamp as a bad response.
void RequireRejected(std::initializer_list<const char*> texts) {
  for (const char* bad : texts) {
    INFO(bad);
    auto r = ParseTimestamp(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kBadResponse);
  }
}

}  // namespace

// Found by fuzz/timestamp_fuzz.cpp: years outside what a TimePoint (64-bit
// nanoseconds) holds overflowed in the conversion (undefined behaviour,
// a wrapped instant).
TEST_CASE("timestamps and HTTP dates outside the representable years are rejected") {
  RequireRejected({"0001-01-01T00:00:00Z", "1677-12-31T23:59:59Z", "2262-01-01T00:00:00Z",
                   "9999-12-31T23:59:59.9999999+00:00"});
  CHECK_FALSE(ParseHttpDate("SuN Nov  6 08:49:37 4994").ok());
  CHECK_FALSE(ParseHttpDate("Sun, 06 Nov 9999 08:49:37 GMT").ok());
  // The extremes that are accepted, with the widest offsets.
  auto low = ParseTimestamp("1678-01-01T00:00:00-23:59");
  auto high = ParseTimestamp("2261-12-31T23:59:59.999999999+23:59");
  REQUIRE(low.ok());
  REQUIRE(high.ok());
  CHECK(FormatTimestamp(*low) == "1678-01-01T23:59:00Z");
  CHECK(FormatTimestamp(*high) == "2261-12-31T00:00:59Z");
}

// Found by fuzz/state_fuzz.cpp (a ledger line that did not read back): an
// offset that moves the instant out of the years was accepted, and the UTC
// form it was saved in ("2262-01-01T00:59:59Z") was then refused.
TEST_CASE("a timestamp whose offset moves it out of the representable years is rejected") {
  RequireRejected({"1678-01-01T00:00:00+00:01", "1678-01-01T00:00:00+23:59",
                   "2261-12-31T23:59:59-01:00", "2261-12-31T23:59:59.999999999-23:59",
                   "2261-12-31T23:59:60Z"});
  CHECK_FALSE(ParseHttpDate("Wed, 31 Dec 2261 23:59:60 GMT").ok());
  // Whatever is accepted is written in a form that reads back.
  for (const char* good :
       {"1678-01-01T00:00:00Z", "1678-01-01T00:00:00-00:01", "2261-12-31T23:59:59.999Z",
        "2261-12-31T22:59:59-01:00", "2261-12-31T23:59:60+00:01"}) {
    INFO(good);
    auto t = ParseTimestamp(good);
    REQUIRE(t.ok());
    auto back = ParseTimestamp(FormatTimestampMs(*t));
    REQUIRE(back.ok());
    CHECK(*back == std::chrono::floor<std::chrono::milliseconds>(*t));
  }
}

TEST_CASE("HTTP dates with negative or wrapping fields are rejected") {
  // sscanf's %d reads signs and, in the asctime form, any number of digits.
  CHECK_FALSE(ParseHttpDate("Sun, 06 Nov 1994 -8:49:37 GMT").ok());
  CHECK_FALSE(ParseHttpDate("Sun, 06 Nov 1994 08:-9:37 GMT").ok());
  CHECK_FALSE(ParseHttpDate("Sun Nov 257 08:49:37 1994").ok());  // day 257 wrapped to 1
  CHECK_FALSE(ParseHttpDate("Sun, 00 Nov 1994 08:49:37 GMT").ok());
}

TEST_CASE("FormatDuration formats every value, the most negative included") {
  CHECK(FormatDuration(Seconds{-90}) == "-1m30s");
  CHECK(FormatDuration(Seconds{std::numeric_limits<Seconds::rep>::min()}) ==
        "-106751991167300d15h30m8s");
  CHECK(FormatDuration(Seconds{std::numeric_limits<Seconds::rep>::max()}) ==
        "106751991167300d15h30m7s");
}

// Found by fuzz/timestamp_fuzz.cpp: the nanosecond difference of two instants
// centuries apart overflowed.
TEST_CASE("Retry-After dates far from now are clamped, not overflowed") {
  auto now = *ParseTimestamp("2026-11-29T10:00:00.500Z");
  CHECK(ParseRetryAfter("Sun Nov  6 08:49:37 1709", now)->count() == 0);
  CHECK(ParseRetryAfter("Sun, 06 Nov 2261 08:49:37 GMT", now)->count() == 86400LL * 366);
  // A fraction of a second still to go counts as a whole second.
  CHECK(ParseRetryAfter("Sun, 29 Nov 2026 10:00:01 GMT", now)->count() == 1);
}
