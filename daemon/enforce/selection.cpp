#include "enforce/selection.h"

#include <algorithm>
#include <cstdio>
#include <unordered_map>

namespace rcw {

std::vector<Finding> CancellingFindings(const std::vector<Finding>& findings) {
  std::unordered_map<std::uint32_t, const Finding*> chosen;
  for (const Finding& f : findings) {
    if (!f.cancel) continue;
    auto [it, inserted] = chosen.emplace(f.job_index, &f);
    // A policy finding beats a budget finding; among policies the first wins
    // (findings come in policy order).
    if (!inserted && it->second->budget_index && f.policy_index) it->second = &f;
  }
  std::vector<Finding> out;
  out.reserve(chosen.size());
  for (auto& [job, f] : chosen) out.push_back(*f);
  std::sort(out.begin(), out.end(),
            [](const Finding& a, const Finding& b) { return a.job_index < b.job_index; });
  return out;
}

Selection SelectCancellations(std::vector<Finding> wanted, std::size_t already,
                              std::size_t running, std::size_t used_this_hour,
                              const EnforcementConfig& limits, const std::vector<Job>& jobs) {
  Selection s;
  std::stable_sort(wanted.begin(), wanted.end(), [&](const Finding& a, const Finding& b) {
    if (a.Ratio() != b.Ratio()) return a.Ratio() > b.Ratio();
    return jobs[a.job_index].created < jobs[b.job_index].created;
  });
  s.would = wanted.size() + already;
  s.fraction = running ? static_cast<double>(s.would) / static_cast<double>(running) : 0;
  // A fraction of a handful is no sign of a bad policy: one runaway among one
  // or two running jobs is the commonest case there is.
  bool many = s.would >= static_cast<std::size_t>(limits.circuit_breaker_min_jobs);
  if (!wanted.empty() && many && s.fraction > limits.max_cancel_fraction) {
    s.breaker_tripped = true;
    s.breaker = std::move(wanted);
    return s;
  }
  std::size_t per_hour = static_cast<std::size_t>(limits.max_cancels_per_hour);
  std::size_t hour_left = used_this_hour >= per_hour ? 0 : per_hour - used_this_hour;
  std::size_t cycle_left = static_cast<std::size_t>(limits.max_cancels_per_cycle);
  for (Finding& f : wanted) {
    if (s.start.size() >= cycle_left) {
      s.over_cycle.push_back(f);
    } else if (s.start.size() >= hour_left) {
      s.over_hour.push_back(f);
    } else {
      s.start.push_back(f);
    }
  }
  return s;
}

std::string BreakerMessage(const Selection& s, std::size_t running,
                           const EnforcementConfig& limits) {
  char text[320];
  std::snprintf(text, sizeof text,
                "circuit breaker: %zu of %zu watched jobs would be cancelled (fraction %.2f > "
                "max_cancel_fraction %.2f, and %zu >= circuit_breaker_min_jobs %d); cancelling "
                "none this cycle",
                s.would, running, s.fraction, limits.max_cancel_fraction, s.would,
                limits.circuit_breaker_min_jobs);
  return text;
}

}  // namespace rcw
