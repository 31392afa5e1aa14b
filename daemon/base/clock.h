// Time as a parameter: the wall clock and waiting (base/waiter.h) are
// interfaces so that tests move time with FakeClock::Advance() instead of
// sleeping.
#pragma once

#include <chrono>

namespace rcw {

using TimePoint = std::chrono::system_clock::time_point;
using Seconds = std::chrono::seconds;
using Millis = std::chrono::milliseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock "now" (UTC).
  virtual TimePoint Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
};

// Seconds since the Unix epoch as a double, for metrics and JSON.
inline double ToUnixSeconds(TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

}  // namespace rcw
