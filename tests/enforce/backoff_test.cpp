#include "enforce/backoff.h"

#include <catch2/catch.hpp>

using namespace rcw;
using namespace std::chrono_literals;

TEST_CASE("full jitter stays within the exponential ceiling and the maximum") {
  RetryConfig retry;
  retry.initial = 1000ms;
  retry.max = 5000ms;
  std::mt19937_64 rng(7);
  for (int attempt = 1; attempt <= 8; ++attempt) {
    Millis ceiling = std::min<Millis>(Millis{1000LL << (attempt - 1)}, 5000ms);
    Millis longest{0};
    for (int i = 0; i < 2000; ++i) {
      Millis d = BackoffDelay(retry, attempt, rng);
      REQUIRE(d >= 0ms);
      REQUIRE(d <= ceiling);
      longest = std::max(longest, d);
    }
    CHECK(longest > ceiling * 9 / 10);  // the whole range is used
  }
}

TEST_CASE("the backoff bound adds the ceilings of every wait") {
  RetryConfig retry;
  retry.initial = 1000ms;
  retry.max = 5000ms;
  retry.max_attempts = 5;
  // Waits after attempts 1..4: 1s + 2s + 4s + 5s.
  CHECK(BackoffBound(retry) == 12000ms);
}
