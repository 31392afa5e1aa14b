#include "json/fast_timestamp.h"

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/timefmt.h"

using namespace rcw;

namespace {

TimePoint At(const char* text) { return *ParseTimestamp(text); }

// What `parser` makes of `text`, as an optional.
// "07" for 7 (0 <= n <= 99), without snprintf: g++ 12 at -O1 with ASan warns
// that "%02d" may be truncated in a 3-byte buffer (-Werror=format-truncation).
std::string TwoDigits(int n) {
  return {static_cast<char>('0' + n / 10), static_cast<char>('0' + n % 10)};
}

std::optional<TimePoint> Parse(FastTimestampParser& parser, const std::string& text) {
  TimePoint t;
  if (!parser.Parse(text, t)) return std::nullopt;
  return t;
}

// The fast parser's answer is ParseTimestamp's wherever it has one.
void CheckAgrees(std::optional<TimePoint> fast, const std::string& text) {
  INFO(text);
  if (!fast) return;
  Result<TimePoint> slow = ParseTimestamp(text);
  REQUIRE(slow.ok());
  CHECK(*fast == *slow);
}

}  // namespace

TEST_CASE("the fast parser reads the API's two UTC spellings") {
  CHECK(ParseUtcTimestampFast("2026-04-05T14:04:56Z") == At("2026-04-05T14:04:56Z"));
  CHECK(ParseUtcTimestampFast("2026-04-01T09:56:14.1234567+00:00") ==
        At("2026-04-01T09:56:14.1234567Z"));
  CHECK(ParseUtcTimestampFast("2026-04-01T09:56:14.1234567891+00:00") ==
        At("2026-04-01T09:56:14.123456789Z"));
  CHECK(ParseUtcTimestampFast("1678-01-01T00:00:00Z") == At("1678-01-01T00:00:00Z"));
  CHECK(ParseUtcTimestampFast("2261-12-31T23:59:59.999999999Z") ==
        At("2261-12-31T23:59:59.999999999Z"));
  CHECK(ParseUtcTimestampFast("2024-02-29T12:00:00Z") == At("2024-02-29T12:00:00Z"));
}

TEST_CASE("the fast parser leaves every other text to ParseTimestamp") {
  for (const char* text :
       {"", "2026-04-05T14:04:56", "2026-04-05t14:04:56Z", "2026-04-05 14:04:56Z",
        "2026-04-05T14:04:56z", "2026-04-05T14:04:56+01:00", "2026-04-05T14:04:56-00:00",
        "2026-04-05T14:04:56.Z", "2026-04-05T14:04:60Z", "2026-04-05T24:00:00Z",
        "2026-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
        "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-01-00T00:00:00Z",
        "1677-12-31T23:59:59Z", "2262-01-01T00:00:00Z", "0000-01-01T00:00:00Z",
        "2026-04-05T14:04:56Zjunk", "2026-04-05T14:04:56+00:00 ", "2026/04/05T14:04:56Z",
        "2a26-04-05T14:04:56Z", "2026-04-0\xff" "T14:04:56Z"}) {
    INFO(text);
    CHECK_FALSE(ParseUtcTimestampFast(text).has_value());
  }
}

TEST_CASE("a parser gives the same instant for the same date twice and after a change") {
  FastTimestampParser parser;
  CHECK(Parse(parser, "2026-04-05T14:04:56Z") == At("2026-04-05T14:04:56Z"));
  CHECK(Parse(parser, "2026-04-05T14:04:56Z") == At("2026-04-05T14:04:56Z"));
  CHECK(Parse(parser, "2026-04-05T09:56:14.1234567+00:00") == At("2026-04-05T09:56:14.1234567Z"));
  // The date changes; the time of day is the same.
  CHECK(Parse(parser, "2026-04-04T14:04:56Z") == At("2026-04-04T14:04:56Z"));
  CHECK(Parse(parser, "2025-04-04T14:04:56Z") == At("2025-04-04T14:04:56Z"));
  CHECK(Parse(parser, "2025-05-04T14:04:56Z") == At("2025-05-04T14:04:56Z"));
  CHECK(Parse(parser, "2026-04-05T14:04:56Z") == At("2026-04-05T14:04:56Z"));
}

TEST_CASE("an invalid date is refused after a valid one that shares its prefix") {
  FastTimestampParser parser;
  SECTION("a day past the month's end") {
    REQUIRE(Parse(parser, "2026-02-28T10:00:00Z") == At("2026-02-28T10:00:00Z"));
    CHECK_FALSE(Parse(parser, "2026-02-30T10:00:00Z"));
    CHECK_FALSE(Parse(parser, "2026-02-29T10:00:00Z"));  // 2026 is no leap year
    CHECK_FALSE(Parse(parser, "2026-02-2xT10:00:00Z"));
    CHECK(Parse(parser, "2026-02-28T11:00:00Z") == At("2026-02-28T11:00:00Z"));
  }
  SECTION("a leap day, then the same day in a common year") {
    REQUIRE(Parse(parser, "2024-02-29T10:00:00Z") == At("2024-02-29T10:00:00Z"));
    CHECK_FALSE(Parse(parser, "2023-02-29T10:00:00Z"));
    CHECK_FALSE(Parse(parser, "2100-02-29T10:00:00Z"));
    CHECK(Parse(parser, "2000-02-29T10:00:00Z") == At("2000-02-29T10:00:00Z"));
  }
  SECTION("a year out of range") {
    REQUIRE(Parse(parser, "2261-12-31T23:59:59Z") == At("2261-12-31T23:59:59Z"));
    CHECK_FALSE(Parse(parser, "2262-01-01T00:00:00Z"));
    CHECK_FALSE(Parse(parser, "2261-12-32T00:00:00Z"));
    REQUIRE(Parse(parser, "1678-01-01T00:00:00Z") == At("1678-01-01T00:00:00Z"));
    CHECK_FALSE(Parse(parser, "1677-01-01T00:00:00Z"));
  }
  SECTION("a separator changes") {
    REQUIRE(Parse(parser, "2026-04-05T14:04:56Z") == At("2026-04-05T14:04:56Z"));
    CHECK_FALSE(Parse(parser, "2026-04/05T14:04:56Z"));
    CHECK_FALSE(Parse(parser, "2026/04-05T14:04:56Z"));
  }
}

TEST_CASE("a remembered date does not excuse a bad time or zone") {
  FastTimestampParser parser;
  REQUIRE(Parse(parser, "2026-04-05T14:04:56Z") == At("2026-04-05T14:04:56Z"));
  for (const char* text :
       {"2026-04-05T24:00:00Z", "2026-04-05T14:60:00Z", "2026-04-05T14:04:60Z",
        "2026-04-05t14:04:56Z", "2026-04-05T14:04:56+01:00", "2026-04-05T14:04:56.Z",
        "2026-04-05T14:04:56", "2026-04-05", "2026-04-05T14:04:5xZ", "2026-04-05T14-04:56Z"}) {
    INFO(text);
    CHECK_FALSE(Parse(parser, text));
  }
  // A failure leaves the remembered date intact.
  CHECK(Parse(parser, "2026-04-05T00:00:00.5Z") == At("2026-04-05T00:00:00.5Z"));
}

TEST_CASE("Parse leaves `out` alone when it fails") {
  FastTimestampParser parser;
  TimePoint out = At("2001-02-03T04:05:06Z");
  CHECK_FALSE(parser.Parse("2026-02-30T00:00:00Z", out));
  CHECK_FALSE(parser.Parse("2026-04-05T14:04:56+01:00", out));
  CHECK(out == At("2001-02-03T04:05:06Z"));
}

TEST_CASE("every day of the range parses alike with and without a remembered date") {
  // Day by day through every supported year, then every month/day pair
  // (valid or not) after priming the parser with the first of that month:
  // a cache hit must equal a fresh parse, and both ParseTimestamp.
  FastTimestampParser walking;
  int days = 0;
  const std::chrono::sys_days first = std::chrono::year(kMinTimestampYear) / 1 / 1;
  const std::chrono::sys_days last = std::chrono::year(kMaxTimestampYear) / 12 / 31;
  for (std::chrono::sys_days d = first; d <= last; d += std::chrono::days(1)) {
    std::string text = FormatTimestamp(d + std::chrono::hours(13));
    std::string dotnet = text.substr(0, 19) + ".1234567+00:00";
    const TimePoint want = d + std::chrono::hours(13);
    std::optional<TimePoint> first = Parse(walking, text), second = Parse(walking, dotnet);
    if (first != want || second != want + std::chrono::nanoseconds(123456700)) {
      FAIL_CHECK(text);  // one line per failure, not 2 x 213,000 assertions
    }
    ++days;
  }
  CHECK(days == 213'301);  // 1678-01-01 .. 2261-12-31

  std::vector<std::string> years = {"1678", "1900", "2000", "2024", "2026", "2100", "2261"};
  int accepted = 0;
  for (const std::string& y : years) {
    for (int m = 0; m <= 13; ++m) {
      const std::string month = TwoDigits(m);
      FastTimestampParser primed;
      Parse(primed, y + "-" + month + "-01T00:00:00Z");
      for (int d = 0; d <= 39; ++d) {
        const std::string day = TwoDigits(d);
        std::string text = y + "-" + month + "-" + day + "T23:59:59Z";
        std::optional<TimePoint> hit_or_miss = Parse(primed, text);
        std::optional<TimePoint> again = Parse(primed, text);
        INFO(text);
        REQUIRE(hit_or_miss == ParseUtcTimestampFast(text));
        REQUIRE(again == hit_or_miss);
        REQUIRE(hit_or_miss.has_value() == ParseTimestamp(text).ok());
        CheckAgrees(hit_or_miss, text);
        accepted += hit_or_miss.has_value();
      }
    }
  }
  CHECK(accepted == 7 * 365 + 2);  // 2000 and 2024 are leap years, 1900 and 2100 are not
}
