#include "cli/plan_economy.h"

#include <cmath>
#include <cstdio>

#include "base/json_writer.h"
#include "base/timefmt.h"

namespace rcw {

long RequestEconomy::PerHour() const {
  long interval = std::max<long>(1, poll_interval.count());
  return (static_cast<long>(requests) * 3600 + interval - 1) / interval;
}

long RequestEconomy::Budget() const {
  return static_cast<long>(std::floor(max_requests_per_hour * poll_share));
}

Seconds RequestEconomy::FittingInterval() const {
  long budget = std::max<long>(1, Budget());
  return Seconds((static_cast<long>(requests) * 3600 + budget - 1) / budget);
}

std::string EconomyLines(const RequestEconomy& e) {
  char line[512];
  long percent = e.max_requests_per_hour > 0 ? e.PerHour() * 100 / e.max_requests_per_hour : 0;
  std::snprintf(line, sizeof line,
                "requests: %d for this poll (%d pages, %d GETs), %ld an hour at poll_interval %s: "
                "%ld%% of api.max_requests_per_hour %d\n",
                e.requests, e.pages, e.gets, e.PerHour(), FormatDuration(e.poll_interval).c_str(),
                percent, e.max_requests_per_hour);
  std::string out = line;
  if (!e.Fits()) {
    std::snprintf(line, sizeof line,
                  "warning: polls like this one need %ld requests an hour, over the %ld that "
                  "api.max_requests_per_hour %d leaves them (10%% is kept for cancellations); "
                  "use poll_interval %s or more, or raise the limit if your tier allows\n",
                  e.PerHour(), e.Budget(), e.max_requests_per_hour,
                  FormatDuration(e.FittingInterval()).c_str());
    out += line;
  }
  return out;
}

void EconomyJson(JsonWriter& w, const RequestEconomy& e) {
  w.Key("requests").BeginObject();
  w.Key("poll").Int(e.requests).Key("pages").Int(e.pages).Key("gets").Int(e.gets);
  w.Key("per_hour").Int(e.PerHour()).Key("max_per_hour").Int(e.max_requests_per_hour);
  w.Key("poll_budget_per_hour").Int(e.Budget()).Key("fits").Bool(e.Fits());
  w.Key("fitting_poll_interval_seconds").Int(e.FittingInterval().count());
  w.EndObject();
}

}  // namespace rcw
