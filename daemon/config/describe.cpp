// check-config's summary of a loaded Config: one header line, then one line
// per policy and per budget. Prints where the secret came from, never it.
#include <cstdio>

#include "base/timefmt.h"
#include "config/loader.h"

namespace rcw {
namespace {

constexpr std::string_view kPolicyActionNames[] = {"cancel", "report"};
constexpr std::string_view kGroupByNames[] = {"itwin", "user", "type", "all"};
constexpr std::string_view kWindowNames[] = {"daily", "weekly", "monthly"};
constexpr std::string_view kBudgetActionNames[] = {"cancel_queued", "cancel_all", "report"};

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

std::string Bool(bool b) { return b ? "true" : "false"; }

std::string Types(const std::vector<JobType>& types) {
  std::string out;
  for (JobType t : types) out += (out.empty() ? "" : ",") + std::string(ToString(t));
  return out;
}

// " types=A,B itwins=1 users=2 name_regex=\"^x\"", or "" for "every job".
std::string MatchText(const MatchSpec& m) {
  std::string out;
  if (!m.types.empty()) out += " types=" + Types(m.types);
  if (!m.itwins.empty()) out += " itwins=" + std::to_string(m.itwins.size());
  if (!m.users.empty()) out += " users=" + std::to_string(m.users.size());
  if (m.name_regex) out += " name_regex=\"" + m.name_regex->pattern + "\"";
  return out;
}

std::string PolicyLine(const PolicyConfig& p) {
  std::string match = MatchText(p.match);
  std::string out = "policy " + p.name + ":" + (match.empty() ? " jobs=all" : match);
  if (p.exempt.name_regex || !p.exempt.ids.empty()) {
    out += " exempt";
    if (p.exempt.name_regex) out += " name_regex=\"" + p.exempt.name_regex->pattern + "\"";
    if (!p.exempt.ids.empty()) out += " ids=" + std::to_string(p.exempt.ids.size());
  }
  out += " limits";
  if (p.limits.max_runtime) out += " max_runtime=" + FormatDuration(*p.limits.max_runtime);
  if (p.limits.max_queued) out += " max_queued=" + FormatDuration(*p.limits.max_queued);
  if (p.limits.max_processing_units) {
    out += " max_processing_units=" + Num(*p.limits.max_processing_units);
  }
  out += " grace=" + FormatDuration(p.grace);
  if (p.warn_at) out += " warn_at=" + Num(*p.warn_at);
  return out + " action=" + std::string(kPolicyActionNames[static_cast<int>(p.action)]);
}

std::string BudgetLine(const BudgetConfig& b) {
  std::string out = "budget " + b.name + ":";
  out += " group_by=" + std::string(kGroupByNames[static_cast<int>(b.group_by)]);
  out += " window=" + std::string(kWindowNames[static_cast<int>(b.window)]);
  out += " tz=" + b.timezone + " limit=" + Num(b.limit);
  if (b.warn_at) out += " warn_at=" + Num(*b.warn_at);
  out += " action=" + std::string(kBudgetActionNames[static_cast<int>(b.action)]);
  out += " count_running=" + Bool(b.count_running);
  std::string match = MatchText(b.match);
  return match.empty() ? out : out + " match" + match;
}

std::string Header(const Config& c) {
  std::string out = "config " + c.path + ": api=" + c.api.base_url;
  out += " auth client_id=" + c.auth.client_id + " secret=(" + c.auth.secret_source + ")";
  out += " watch itwins=" +
         (c.watch.itwins.empty() ? std::string("own-jobs") : std::to_string(c.watch.itwins.size()));
  out += " poll_interval=" + FormatDuration(c.watch.poll_interval) +
         " lookback=" + FormatDuration(c.watch.lookback) +
         " full_listing_interval=" + FormatDuration(c.watch.full_listing_interval);
  const EnforcementConfig& e = c.enforcement;
  out += " enforcement dry_run=" + Bool(e.dry_run) +
         " max_cancels_per_cycle=" + std::to_string(e.max_cancels_per_cycle) +
         " max_cancels_per_hour=" + std::to_string(e.max_cancels_per_hour) +
         " max_cancel_fraction=" + Num(e.max_cancel_fraction) +
         " circuit_breaker_min_jobs=" + std::to_string(e.circuit_breaker_min_jobs);
  out += " estimates learn=" + Bool(c.learn_estimates);
  for (int i = 0; i < kJobTypeCount; ++i) {
    if (c.pu_per_hour[i]) {
      out += " " + std::string(ToString(static_cast<JobType>(i))) + "=" + Num(*c.pu_per_hour[i]) +
             "pu/h";
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> DescribeConfig(const Config& config) {
  std::vector<std::string> lines{Header(config)};
  for (const PolicyConfig& p : config.policies) lines.push_back(PolicyLine(p));
  for (const BudgetConfig& b : config.budgets) lines.push_back(BudgetLine(b));
  return lines;
}

}  // namespace rcw
