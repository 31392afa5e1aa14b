// The request economy of `rc-watchdog plan`: what the poll it ran would cost
// per hour at watch.poll_interval, against api.max_requests_per_hour
// (docs/configuration.md). Pure.
#pragma once

#include <string>

#include "base/clock.h"

namespace rcw {

class JsonWriter;

struct RequestEconomy {
  int requests = 0;  // API requests the poll sent (pages, GETs, retries; no token requests)
  int pages = 0;     // listing pages read
  int gets = 0;      // follow-up GETs
  Seconds poll_interval{30};
  int max_requests_per_hour = 4500;
  // The share of each window a poll may use: the request gate keeps 10% for
  // cancellations (api/request_gate.h).
  double poll_share = 0.9;

  // Requests per hour when every poll costs `requests`, rounded up.
  long PerHour() const;
  // What polls may use of max_requests_per_hour.
  long Budget() const;
  bool Fits() const { return PerHour() <= Budget(); }
  // The shortest poll interval at which polls like this one fit (whole
  // seconds, rounded up).
  Seconds FittingInterval() const;
};

// Table lines: "requests: 3 for this poll (3 pages, 0 GETs), 360 an hour at
// poll_interval 30s: 8% of api.max_requests_per_hour 4500" and, when it
// does not fit, a "warning: ..." line naming the poll interval that would.
std::string EconomyLines(const RequestEconomy& e);
// JSON "requests": {"poll", "pages", "gets", "per_hour", "max_per_hour",
// "poll_budget_per_hour", "fits", "fitting_poll_interval_seconds"}.
void EconomyJson(JsonWriter& w, const RequestEconomy& e);

}  // namespace rcw
