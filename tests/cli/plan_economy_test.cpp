#include "cli/plan_economy.h"

#include <catch2/catch.hpp>

#include "base/json_writer.h"

namespace rcw {
namespace {

RequestEconomy Poll(int requests, int interval_s, int max_per_hour) {
  RequestEconomy e;
  e.requests = requests;
  e.pages = requests;
  e.poll_interval = Seconds(interval_s);
  e.max_requests_per_hour = max_per_hour;
  return e;
}

TEST_CASE("plan economy: a small poll fits and says what it costs") {
  RequestEconomy e = Poll(3, 30, 4500);
  CHECK(e.PerHour() == 360);
  CHECK(e.Budget() == 4050);
  CHECK(e.Fits());
  CHECK(EconomyLines(e) ==
        "requests: 3 for this poll (3 pages, 0 GETs), 360 an hour at poll_interval 30s: 8% of "
        "api.max_requests_per_hour 4500\n");
}

TEST_CASE(
    "plan economy: a listing too large for the hourly limit warns with an interval that fits") {
  // 37 pages every 30 s: 4440 an hour, over the 4050 left after the 10% reserve.
  RequestEconomy e = Poll(37, 30, 4500);
  CHECK(e.PerHour() == 4440);
  CHECK_FALSE(e.Fits());
  CHECK(e.FittingInterval() == Seconds(33));  // 37 * 3600 / 4050 = 32.9 -> 33 s
  RequestEconomy at = Poll(37, 33, 4500);
  CHECK(at.Fits());
  RequestEconomy below = Poll(37, 32, 4500);
  CHECK_FALSE(below.Fits());
  std::string text = EconomyLines(e);
  CHECK(text.find("warning: polls like this one need 4440 requests an hour, over the 4050") !=
        std::string::npos);
  CHECK(text.find("use poll_interval 33s or more") != std::string::npos);
}

TEST_CASE("plan economy: per hour rounds up and long intervals print as durations") {
  RequestEconomy e = Poll(1, 7, 1);
  CHECK(e.PerHour() == 515);  // 3600 / 7 = 514.3
  CHECK(e.Budget() == 0);
  CHECK_FALSE(e.Fits());
  CHECK(e.FittingInterval() == Seconds(3600));
  CHECK(EconomyLines(e).find("use poll_interval 1h or more") != std::string::npos);
}

TEST_CASE("plan economy: JSON") {
  JsonWriter w;
  w.BeginObject();
  EconomyJson(w, Poll(37, 30, 4500));
  w.EndObject();
  CHECK(
      w.Take() ==
      "{\"requests\":{\"poll\":37,\"pages\":37,\"gets\":0,\"per_hour\":4440,\"max_per_hour\":4500,"
      "\"poll_budget_per_hour\":4050,\"fits\":false,\"fitting_poll_interval_seconds\":33}}");
}

}  // namespace
}  // namespace rcw
