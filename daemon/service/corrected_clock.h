// The watchdog's "now": the local clock corrected by the API's Date header
// when the two differ by more than kMaxSkew, so a fast local clock cannot
// cause early kills (README "How enforcement works").
#pragma once

#include <chrono>

#include "base/clock.h"

namespace rcw {

class CorrectedClock final : public Clock {
 public:
  // Date headers have one-second resolution and the response takes time to
  // arrive: below this the difference is noise.
  static constexpr Millis kMaxSkew{2000};

  explicit CorrectedClock(const Clock& local) : local_(local) {}

  TimePoint Now() const override { return local_.Now() + offset_; }

  // `server_date` from a response's Date header, `local_now` the uncorrected
  // local time at the response.
  void OnServerDate(TimePoint server_date, TimePoint local_now) {
    skew_ = std::chrono::duration_cast<Millis>(server_date - local_now);
    // The Date header is truncated to whole seconds: add half a second.
    skew_ += Millis{500};
    offset_ = (skew_ > kMaxSkew || skew_ < -kMaxSkew) ? skew_ : Millis{0};
  }

  // API Date minus the local clock, as last measured.
  double skew_seconds() const { return std::chrono::duration<double>(skew_).count(); }
  Millis offset() const { return offset_; }

 private:
  const Clock& local_;
  Millis skew_{0};
  Millis offset_{0};
};

}  // namespace rcw
