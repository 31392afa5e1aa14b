// A fast path for the two timestamp spellings of the Reality Conversion API.
// Internal to json/: decoding a page of 1,000 jobs reads 3,000 timestamps,
// and the general ParseTimestamp (base/timefmt.h) was a third of that time.
#pragma once

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

}  // namespace rcw
