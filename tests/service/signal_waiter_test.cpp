#include "service/signal_waiter.h"

#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>

using namespace rcw;
using namespace std::chrono_literals;

namespace {

// Blocks SIGTERM, SIGINT and SIGHUP for the test (as RunDaemon does), and
// on exit takes any of them still pending and restores the mask.
class BlockedSignals {
 public:
  BlockedSignals() {
    sigemptyset(&set_);
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&set_, sig);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
  }
  ~BlockedSignals() {
    timespec zero{0, 0};
    while (sigtimedwait(&set_, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  static bool Pending(int sig) {
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    return sigismember(&pending, sig) == 1;
  }

 private:
  sigset_t set_, old_;
};

}  // namespace

TEST_CASE("a wait with no signal runs its time and says so") {
  BlockedSignals blocked;
  int calls = 0;
  SignalWaiter waiter([&] { ++calls; });
  CHECK(waiter.WaitFor(0ms));
  CHECK(waiter.WaitFor(-5ms));
  CHECK(calls == 2);
  CHECK_FALSE(waiter.stop_requested());
}

TEST_CASE("SIGTERM ends a wait at once, stays pending for the main loop, and ends later waits") {
  BlockedSignals blocked;
  SignalWaiter waiter;
  ::raise(SIGTERM);
  auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(waiter.WaitFor(3600s));
  CHECK(waiter.stop_requested());
  CHECK(waiter.signal() == SIGTERM);
  CHECK(BlockedSignals::Pending(SIGTERM));
  CHECK_FALSE(waiter.WaitFor(3600s));
  CHECK(std::chrono::steady_clock::now() - start < 60s);
}

TEST_CASE("SIGINT stops a wait like SIGTERM") {
  BlockedSignals blocked;
  SignalWaiter waiter;
  ::raise(SIGINT);
  CHECK_FALSE(waiter.WaitFor(3600s));
  CHECK(waiter.signal() == SIGINT);
  CHECK(BlockedSignals::Pending(SIGINT));
}

TEST_CASE("SIGHUP does not end a wait and stays pending for the main loop") {
  BlockedSignals blocked;
  SignalWaiter waiter;
  ::raise(SIGHUP);
  CHECK(waiter.WaitFor(0ms));
  CHECK_FALSE(waiter.stop_requested());
  CHECK(BlockedSignals::Pending(SIGHUP));
}
