#include "json/fast_timestamp.h"

#include <cstring>

#include "base/timefmt.h"

namespace rcw {
namespace {

// The two digits at p as 0..99, or 100 (beyond every field's range) when
// either byte is not a digit: bytes below '0' wrap around to large values.
unsigned Two(const char* p) {
  const unsigned a = static_cast<unsigned char>(p[0]) - unsigned{'0'};
  const unsigned b = static_cast<unsigned char>(p[1]) - unsigned{'0'};
  return a > 9 || b > 9 ? 100 : a * 10 + b;
}

}  // namespace

std::optional<TimePoint> ParseUtcTimestampFast(std::string_view text) {
  FastTimestampParser parser;
  TimePoint t;
  if (!parser.Parse(text, t)) return std::nullopt;
  return t;
}

bool FastTimestampParser::Parse(std::string_view s, TimePoint& out) {
  if (s.size() < 20) return false;
  const char* p = s.data();
  const unsigned hour = Two(p + 11), minute = Two(p + 14), second = Two(p + 17);
  if (p[10] != 'T' || p[13] != ':' || p[16] != ':' || hour > 23 || minute > 59 || second > 59) {
    return false;
  }
  size_t i = 19;
  std::int64_t nanos = 0;
  if (p[i] == '.') {
    int digits = 0;
    for (++i; i < s.size() && static_cast<unsigned char>(p[i]) - unsigned{'0'} <= 9; ++i) {
      if (digits < 9) nanos = nanos * 10 + (p[i] - '0'), ++digits;
    }
    if (digits == 0) return false;
    for (; digits < 9; ++digits) nanos *= 10;
  }
  std::string_view zone = s.substr(i);
  if (zone != "Z" && zone != "+00:00") return false;
  std::int64_t days = 0;
  if (!Days(p, days)) return false;
  out = std::chrono::sys_days(std::chrono::days(days)) + std::chrono::hours(hour) +
        std::chrono::minutes(minute) + std::chrono::seconds(second) +
        std::chrono::duration_cast<TimePoint::duration>(std::chrono::nanoseconds(nanos));
  return true;
}

bool FastTimestampParser::Days(const char* p, std::int64_t& days) {
  // Equal text, equal date: only valid dates are remembered, so a hit needs
  // no check. Text that differs in any byte (2026-02-28 -> 2026-02-30) is
  // checked in full below.
  if (cached_ && std::memcmp(p, date_, sizeof date_) == 0) {
    days = days_;
    return true;
  }
  const unsigned century = Two(p), year_in_century = Two(p + 2);
  if (p[4] != '-' || p[7] != '-' || century > 99 || year_in_century > 99) return false;
  // Other years overflow a TimePoint; ParseTimestamp rejects them.
  const int year = static_cast<int>(century * 100 + year_in_century);
  if (year < kMinTimestampYear || year > kMaxTimestampYear) return false;
  // A non-digit gives 100: not a month or a day, so ok() is false.
  const std::chrono::year_month_day ymd{std::chrono::year(year), std::chrono::month(Two(p + 5)),
                                        std::chrono::day(Two(p + 8))};
  if (!ymd.ok()) return false;
  days = days_ = std::chrono::sys_days(ymd).time_since_epoch().count();
  std::memcpy(date_, p, sizeof date_);
  cached_ = true;
  return true;
}

}  // namespace rcw
