// A fast path for the two timestamp spellings of the Reality Conversion API.
// Internal to json/: decoding a page of 1,000 jobs reads 3,000 timestamps,
// and the general ParseTimestamp (base/timefmt.h) was a third of that time.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "base/clock.h"

namespace rcw {

// "2026-04-05T14:04:56Z" and "2026-04-01T09:56:14.0000000+00:00" (any number
// of fraction digits, kept to nanoseconds). nullopt for ANY other text,
// including valid RFC 3339 with other offsets, separators or leap seconds:
// the caller then asks ParseTimestamp, which decides. Where this returns a
// value, it equals ParseTimestamp's (tests/json checks both on many inputs).
std::optional<TimePoint> ParseUtcTimestampFast(std::string_view text);

// ParseUtcTimestampFast with a memory of the last valid date: consecutive
// timestamps of a listing (newest job first) mostly share their
// "YYYY-MM-DD", and checking and converting the date was the larger part of
// a parse. Parse gives exactly what ParseUtcTimestampFast gives for the same
// text, whatever was parsed before (tests/json/fast_timestamp_test.cpp and
// fuzz/timestamp_fuzz.cpp check it). One per page or per thread: it is not
// thread-safe.
class FastTimestampParser {
 public:
  // Sets `out` and returns true where ParseUtcTimestampFast(text) has a
  // value; returns false (out unchanged) where it has none. A bool and not an
  // optional: g++ 12 returns an optional through a stack slot whose flag byte
  // is stored and then reloaded as part of a wider word, a store-forwarding
  // stall that cost as much as the date cache saves (perf, bench/NOTES.md).
  bool Parse(std::string_view text, TimePoint& out);

 private:
  // Sets `days` to the days since 1970-01-01 of the date text at p[0..9] and
  // returns true; false when it is not a date of kMinTimestampYear ..
  // kMaxTimestampYear. Remembers a valid date.
  bool Days(const char* p, std::int64_t& days);

  bool cached_ = false;  // date_ and days_ hold a valid date
  char date_[10] = {};
  std::int64_t days_ = 0;
};

}  // namespace rcw
