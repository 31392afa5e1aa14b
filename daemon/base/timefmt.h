// Parsing and formatting of the time values rc-watchdog meets: RFC 3339
// timestamps from the API, HTTP dates (Date, Retry-After) and config durations.
#pragma once

#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"

namespace rcw {

// The years a parsed timestamp or HTTP date may have: every instant of them,
// with any UTC offset, fits a TimePoint (64-bit nanoseconds: 1677-09-21 ..
// 2262-04-11). Other years are rejected; converting them would overflow.
inline constexpr int kMinTimestampYear = 1678;
inline constexpr int kMaxTimestampYear = 2261;

// RFC 3339 / ISO 8601 date-time with a required zone: "2026-04-05T14:04:56Z",
// "2026-04-01T09:56:14.0000000+00:00". Fractional seconds of any length (kept
// to nanoseconds), 'T' or 't' or ' ' as separator, 'Z'/'z' or +hh:mm / -hh:mm,
// years kMinTimestampYear..kMaxTimestampYear (in UTC, after the offset).
// Returns kBadResponse naming the text when it is not such a timestamp.
Result<TimePoint> ParseTimestamp(std::string_view text);

// "2026-04-05T14:04:56Z" (UTC, whole seconds).
std::string FormatTimestamp(TimePoint t);
// "2026-04-05T14:04:56.123Z" (UTC, milliseconds), for audit lines.
std::string FormatTimestampMs(TimePoint t);

// IMF-fixdate (RFC 9110 §5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT".
// Also accepts the obsolete RFC 850 and asctime forms.
Result<TimePoint> ParseHttpDate(std::string_view text);
std::string FormatHttpDate(TimePoint t);

// Retry-After: delay-seconds, or an HTTP date relative to `now`. Never negative;
// at most 366 days.
Result<Seconds> ParseRetryAfter(std::string_view text, TimePoint now);

// Config durations: an integer followed by s, m, h or d, repeated: "90s",
// "30m", "2h", "1d", "1h30m". No sign, no spaces, no fractions. Error message:
// "\"2 hours\" is not a duration (use 90s, 30m, 2h, 1d)".
Result<Seconds> ParseDuration(std::string_view text);
// Inverse of ParseDuration: 5400s -> "1h30m", 0 -> "0s".
std::string FormatDuration(Seconds d);

}  // namespace rcw
