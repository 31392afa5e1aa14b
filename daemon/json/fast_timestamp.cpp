#include "json/fast_timestamp.h"

#include <cstdint>

#include "base/timefmt.h"

namespace rcw {

std::optional<TimePoint> ParseUtcTimestampFast(std::string_view s) {
  if (s.size() < 20) return std::nullopt;
  const char* p = s.data();
  // Bytes below '0' wrap around to large values, so "> 9" rejects them too.
  auto digit = [p](size_t i) { return static_cast<unsigned>(p[i] - '0'); };
  auto two = [&](size_t i) { return digit(i) * 10 + digit(i + 1); };
  // One branch for all fourteen digits, positions from a static table (an
  // initializer list was rebuilt on the stack per call): this runs 3,000
  // times per page.
  static constexpr unsigned char kDigitAt[] = {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18};
  bool bad = false;
  for (unsigned char i : kDigitAt) bad |= digit(i) > 9;
  if (bad) return std::nullopt;
  if (p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' || p[16] != ':') {
    return std::nullopt;
  }
  size_t i = 19;
  std::int64_t nanos = 0;
  if (p[i] == '.') {
    int digits = 0;
    for (++i; i < s.size() && digit(i) <= 9; ++i) {
      if (digits < 9) nanos = nanos * 10 + digit(i), ++digits;
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 9; ++digits) nanos *= 10;
  }
  std::string_view zone = s.substr(i);
  if (zone != "Z" && zone != "+00:00") return std::nullopt;
  // Other years overflow a TimePoint; ParseTimestamp rejects them.
  const int year = static_cast<int>(two(0) * 100 + two(2));
  if (year < kMinTimestampYear || year > kMaxTimestampYear) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year(year),
                                  std::chrono::month(two(5)), std::chrono::day(two(8))};
  if (!ymd.ok() || two(11) > 23 || two(14) > 59 || two(17) > 59) return std::nullopt;
  return std::chrono::sys_days(ymd) + std::chrono::hours(two(11)) + std::chrono::minutes(two(14)) +
         std::chrono::seconds(two(17)) +
         std::chrono::duration_cast<TimePoint::duration>(std::chrono::nanoseconds(nanos));
}

}  // namespace rcw
