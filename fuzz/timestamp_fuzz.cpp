// Timestamp parsing, differential: ParseUtcTimestampFast (json/
// fast_timestamp.h) and ParseTimestamp (base/timefmt.h) must agree wherever
// the fast one returns a value; whatever ParseTimestamp accepts formats
// (FormatTimestamp, FormatTimestampMs) to a text that both parse back to the
// same instant. The date cache: the input's lines, parsed in order (twice
// over) by one FastTimestampParser, each give what a fresh parse gives, so a
// remembered date never changes an answer. HTTP dates (ParseHttpDate,
// ParseRetryAfter) on the same bytes: an accepted date formats and re-parses
// to itself; a delay is within 0 .. 366 days.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/timefmt.h"
#include "fuzz_check.h"
#include "json/fast_timestamp.h"

namespace {

using std::chrono::floor;
using std::chrono::milliseconds;
using std::chrono::seconds;

void CheckRfc3339(std::string_view text) {
  rcw::Result<rcw::TimePoint> slow = rcw::ParseTimestamp(text);
  std::optional<rcw::TimePoint> fast = rcw::ParseUtcTimestampFast(text);
  if (fast) RCW_FUZZ_CHECK(slow.ok() && *slow == *fast);
  if (!slow.ok()) {
    RCW_FUZZ_CHECK(slow.status().code() == rcw::StatusCode::kBadResponse);
    return;
  }
  std::string whole = rcw::FormatTimestamp(*slow);
  rcw::Result<rcw::TimePoint> back = rcw::ParseTimestamp(whole);
  RCW_FUZZ_CHECK(back.ok() && *back == floor<seconds>(*slow));
  // The canonical spelling is the fast path's (the API's) form.
  std::optional<rcw::TimePoint> fast_back = rcw::ParseUtcTimestampFast(whole);
  RCW_FUZZ_CHECK(fast_back && *fast_back == *back);
  std::string ms = rcw::FormatTimestampMs(*slow);
  rcw::Result<rcw::TimePoint> back_ms = rcw::ParseTimestamp(ms);
  RCW_FUZZ_CHECK(back_ms.ok() && *back_ms == floor<milliseconds>(*slow));
}

// One parser reads every line of `text` in order, twice: the second round
// starts with the last line's date remembered, and a line repeating the one
// before it hits the cache. A line of a valid date followed by one with the
// same prefix (2026-02-28 / 2026-02-30) is the case the cache must not miss.
void CheckCachedParser(std::string_view text) {
  rcw::FastTimestampParser parser;
  for (int round = 0; round < 2; ++round) {
    std::string_view rest = text;
    while (true) {
      const size_t end = rest.find('\n');
      const std::string_view line = rest.substr(0, end);
      rcw::TimePoint cached;
      const bool ok = parser.Parse(line, cached);
      const std::optional<rcw::TimePoint> fresh = rcw::ParseUtcTimestampFast(line);
      RCW_FUZZ_CHECK(ok == fresh.has_value());
      if (ok) RCW_FUZZ_CHECK(cached == *fresh);
      if (fresh) {
        rcw::Result<rcw::TimePoint> slow = rcw::ParseTimestamp(line);
        RCW_FUZZ_CHECK(slow.ok() && *slow == *fresh);
      }
      if (end == std::string_view::npos) break;
      rest.remove_prefix(end + 1);
    }
  }
}

void CheckHttpDate(std::string_view text) {
  rcw::Result<rcw::TimePoint> t = rcw::ParseHttpDate(text);
  if (t.ok()) {
    rcw::Result<rcw::TimePoint> back = rcw::ParseHttpDate(rcw::FormatHttpDate(*t));
    RCW_FUZZ_CHECK(back.ok() && *back == *t);
  }
  // 2026-04-05T14:04:56Z: any fixed "now" will do.
  const rcw::TimePoint now{seconds(1775397896)};
  rcw::Result<rcw::Seconds> delay = rcw::ParseRetryAfter(text, now);
  if (delay.ok()) RCW_FUZZ_CHECK(delay->count() >= 0);
  if (delay.ok()) RCW_FUZZ_CHECK(*delay <= seconds(366LL * 86400));
  if (t.ok() && delay.ok()) {  // ceil(t - now), computed in seconds (no overflow)
    seconds exact = floor<seconds>(*t).time_since_epoch() - floor<seconds>(now).time_since_epoch();
    RCW_FUZZ_CHECK(*delay == std::clamp(exact, seconds(0), seconds(366LL * 86400)));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  CheckRfc3339(text);
  CheckCachedParser(text);
  CheckHttpDate(text);
  return 0;
}
