#include "service/notifier.h"

#include <systemd/sd-daemon.h>

#include <ctime>

namespace rcw {
namespace {

class SystemdNotifier final : public Notifier {
 public:
  void Notify(const std::string& text) override { sd_notify(0, text.c_str()); }

  std::optional<Millis> WatchdogInterval() const override {
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
    return Millis{static_cast<long long>(usec / 1000)};
  }
};

}  // namespace

std::unique_ptr<Notifier> MakeSystemdNotifier() { return std::make_unique<SystemdNotifier>(); }

unsigned long long MonotonicMicros() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<unsigned long long>(ts.tv_sec) * 1000000ULL +
         static_cast<unsigned long long>(ts.tv_nsec) / 1000ULL;
}

}  // namespace rcw
