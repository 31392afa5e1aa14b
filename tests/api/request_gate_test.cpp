#include "api/request_gate.h"

#include <catch2/catch.hpp>

#include "fakes/fake_clock.h"

using namespace rcw;
using namespace std::chrono_literals;
using testing::FakeClock;

namespace {
void SendN(RequestGate& gate, FakeClock& clock, int n, Seconds apart = 0s) {
  for (int i = 0; i < n; ++i) {
    gate.OnSent(clock.Now());
    clock.Advance(apart);
  }
}
}  // namespace

TEST_CASE("the minute window admits max_per_minute requests, then opens as they age") {
  FakeClock clock;
  RequestGate gate(clock, {.max_per_minute = 10, .max_per_hour = 1000, .reserve = 0});
  TimePoint start = clock.Now();
  SendN(gate, clock, 9, 1s);
  CHECK(gate.MaySend(clock.Now(), Priority::kNormal));
  gate.OnSent(clock.Now());  // the 10th, at start + 9s
  CHECK(gate.SentInLastMinute(clock.Now()) == 10);
  std::optional<TimePoint> until = gate.BlockedUntil(clock.Now());
  REQUIRE(until.has_value());
  CHECK(*until == start + 60s);  // the first request leaves the window
  CHECK(gate.NotBefore() == until);
  clock.Set(start + 60s - 1ms);
  CHECK_FALSE(gate.MaySend(clock.Now(), Priority::kHigh));
  clock.Set(start + 60s);
  CHECK(gate.MaySend(clock.Now(), Priority::kNormal));
  CHECK_FALSE(gate.NotBefore().has_value());
}

TEST_CASE("a burst makes the gate wait for the right request to age out") {
  FakeClock clock;
  RequestGate gate(clock, {.max_per_minute = 3, .max_per_hour = 1000, .reserve = 0});
  TimePoint start = clock.Now();
  gate.OnSent(start);
  gate.OnSent(start + 10s);
  gate.OnSent(start + 20s);
  gate.OnSent(start + 30s);  // over the limit: recorded anyway
  clock.Set(start + 30s);
  // Four in the window, limit three: two must leave, the second at +70s.
  CHECK(gate.BlockedUntil(clock.Now()) == start + 70s);
}

TEST_CASE("listing may not use the slots reserved for cancellations") {
  FakeClock clock;
  RequestGate gate(clock, {.max_per_minute = 20, .max_per_hour = 1000, .reserve = 0.10});
  SendN(gate, clock, 18);
  CHECK_FALSE(gate.MaySend(clock.Now(), Priority::kNormal));
  CHECK(gate.MaySend(clock.Now(), Priority::kHigh));
  SendN(gate, clock, 2);
  CHECK_FALSE(gate.MaySend(clock.Now(), Priority::kHigh));
}

TEST_CASE("the reserve rounds up but never takes the last slot from listing") {
  FakeClock clock;
  RequestGate small(clock, {.max_per_minute = 5, .max_per_hour = 1000, .reserve = 0.10});
  SendN(small, clock, 4);
  CHECK_FALSE(small.MaySend(clock.Now(), Priority::kNormal));  // one slot kept for kHigh
  CHECK(small.MaySend(clock.Now(), Priority::kHigh));
  RequestGate one(clock, {.max_per_minute = 1, .max_per_hour = 1000, .reserve = 0.5});
  CHECK(one.MaySend(clock.Now(), Priority::kNormal));
}

TEST_CASE("the hourly cap holds even when every minute is within its limit") {
  FakeClock clock;
  RequestGate gate(clock, {.max_per_minute = 100, .max_per_hour = 30, .reserve = 0});
  TimePoint start = clock.Now();
  SendN(gate, clock, 30, 61s);  // one per minute-and-a-bit, 30 in 30.5 min
  REQUIRE(gate.SentInLastMinute(clock.Now()) == 0);
  std::optional<TimePoint> until = gate.BlockedUntil(clock.Now());
  REQUIRE(until.has_value());
  CHECK(*until == start + 3600s);
}

TEST_CASE("default options follow the smallest iTwin tier") {
  FakeClock clock;
  RequestGate gate(clock);
  CHECK(gate.options().max_per_minute == 250);
  CHECK(gate.options().max_per_hour == 4500);
  CHECK(gate.options().reserve == 0.10);
  SendN(gate, clock, 225);
  CHECK_FALSE(gate.MaySend(clock.Now(), Priority::kNormal));
  CHECK(gate.MaySend(clock.Now(), Priority::kHigh));
}

TEST_CASE("a 429 block stops every priority until it expires") {
  FakeClock clock;
  RequestGate gate(clock);
  TimePoint until = clock.Now() + 30s;
  gate.BlockUntil(until);
  gate.BlockUntil(clock.Now() + 5s);  // an earlier end does not shorten it
  CHECK(gate.BlockedUntil(clock.Now(), Priority::kHigh) == until);
  CHECK(gate.NotBefore(Priority::kHigh) == until);
  clock.Advance(29s);
  CHECK_FALSE(gate.MaySend(clock.Now(), Priority::kHigh));
  clock.Advance(1s);
  CHECK(gate.MaySend(clock.Now(), Priority::kNormal));
}

TEST_CASE("the later of a 429 block and a full window wins") {
  FakeClock clock;
  RequestGate gate(clock, {.max_per_minute = 2, .max_per_hour = 1000, .reserve = 0});
  TimePoint start = clock.Now();
  SendN(gate, clock, 2);
  gate.BlockUntil(start + 10s);
  CHECK(gate.BlockedUntil(start) == start + 60s);
  gate.BlockUntil(start + 90s);
  CHECK(gate.BlockedUntil(start) == start + 90s);
}

TEST_CASE("a wall clock stepping back does not stall the gate for the length of the step") {
  FakeClock clock;
  RequestGate gate(clock, {.max_per_minute = 3, .max_per_hour = 1000, .reserve = 0});
  TimePoint start = clock.Now();
  SendN(gate, clock, 3);
  CHECK_FALSE(gate.MaySend(clock.Now(), Priority::kHigh));
  clock.Set(start - 1800s);                             // NTP stepped the clock back half an hour
  CHECK(gate.MaySend(clock.Now(), Priority::kNormal));  // not blocked for 30 minutes
  gate.OnSent(clock.Now());
  // The earlier requests are re-anchored to the new clock and count again.
  CHECK(gate.SentInLastMinute(clock.Now()) == 4);
  CHECK(gate.BlockedUntil(clock.Now()) == clock.Now() + 60s);
  clock.Advance(60s);
  CHECK(gate.MaySend(clock.Now(), Priority::kNormal));
}

TEST_CASE("out-of-range options are clamped") {
  FakeClock clock;
  RequestGate gate(clock, {.max_per_minute = 0, .max_per_hour = -5, .reserve = 7});
  CHECK(gate.options().max_per_minute == 1);
  CHECK(gate.options().max_per_hour == 1);
  CHECK(gate.options().reserve < 1);
  CHECK(gate.MaySend(clock.Now(), Priority::kNormal));
}
