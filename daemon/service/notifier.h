// systemd's notify protocol (sd_notify), behind an interface so tests can
// record what the daemon says. Without $NOTIFY_SOCKET every call is a no-op.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/clock.h"

namespace rcw {

class Notifier {
 public:
  virtual ~Notifier() = default;
  // Sends one notification, e.g. "READY=1\nSTATUS=watching 12 jobs".
  virtual void Notify(const std::string& text) = 0;
  // $WATCHDOG_USEC for this process, if systemd asks for keep-alive pings.
  virtual std::optional<Millis> WatchdogInterval() const = 0;
};

std::unique_ptr<Notifier> MakeSystemdNotifier();
// CLOCK_MONOTONIC in microseconds, for RELOADING=1's MONOTONIC_USEC.
unsigned long long MonotonicMicros();

}  // namespace rcw
