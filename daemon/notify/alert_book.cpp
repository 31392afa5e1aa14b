#include "notify/alert_book.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <string_view>

#include "base/timefmt.h"
#include "config/match.h"

namespace rcw {
namespace {

// Long job names are cut in labels (Alertmanager keeps every label of every
// alert); the full name stays in the audit log.
constexpr std::size_t kMaxNameLabel = 256;

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

std::string Cut(std::string_view s) {
  if (s.size() <= kMaxNameLabel) return std::string(s);
  // Back to the start of a UTF-8 sequence, so the cut leaves none broken.
  std::size_t end = kMaxNameLabel;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return std::string(s.substr(0, end)) + "...";
}

// The identity of one job's alert, before the routing labels.
struct Subject {
  std::string_view job_id, name, itwin_id, user_id, type, policy, limit;
};

void Put(AlertLabels& labels, std::string_view name, std::string_view value) {
  for (auto& [n, v] : labels) {
    if (n == name) {
      v = value;
      return;
    }
  }
  labels.emplace_back(name, value);
}

// Labels: external, then every matching owner entry (a later one wins), then
// the alert's own (the config cannot name those).
Alert Make(std::string_view alertname, std::string_view severity, const Subject& s,
           const NotifyConfig& n, const Job& job) {
  Alert a;
  for (const auto& [k, v] : n.external_labels) Put(a.labels, k, v);
  for (const OwnerRoute& o : n.owners) {
    if (!Matches(o.match, job)) continue;
    for (const auto& [k, v] : o.labels) Put(a.labels, k, v);
  }
  Put(a.labels, "alertname", alertname);
  Put(a.labels, "severity", severity);
  Put(a.labels, "job_id", s.job_id);
  Put(a.labels, "job_name", Cut(s.name));
  Put(a.labels, "itwin_id", s.itwin_id);
  Put(a.labels, "user_id", s.user_id);
  Put(a.labels, "type", s.type);
  Put(a.labels, "policy", s.policy);
  Put(a.labels, "limit", s.limit);
  std::sort(a.labels.begin(), a.labels.end());
  return a;
}

std::string OwnerName(const Config& c, const Finding& f) {
  if (f.policy_index) return c.policies[*f.policy_index].name;
  return c.budgets[*f.budget_index].name;
}

bool PolicyCancels(const Config& c, const Finding& f) {
  return f.policy_index && c.policies[*f.policy_index].action == PolicyAction::kCancel;
}

// Why a violation is not cancelled, or "" when it is being cancelled.
std::string NotCancelledBecause(const Finding& f, const AlertInputs& in,
                                const std::set<std::string_view>& pending) {
  if (f.exempt) return "the job is exempt";
  if (!f.cancel) return "the action is report";
  if (in.dry_run) return "dry run is in force";
  if (!pending.count((*in.jobs)[f.job_index].id.view())) {
    return "held back by a safety limit, or the cancellation failed (see the audit log)";
  }
  return "";
}

Alert FromFinding(const Finding& f, const AlertInputs& in, std::string_view alertname,
                  const std::string& why) {
  const Config& c = *in.config;
  const Job& job = (*in.jobs)[f.job_index];
  std::string owner = OwnerName(c, f);
  Subject s{job.id.view(),  job.name.view(), job.itwin_id.view(), job.user_id.view(),
            job.TypeText(), owner,           ToString(f.limit)};
  bool near = alertname == kNearLimit;
  Alert a = Make(alertname, "warning", s, *c.notify, job);
  a.starts_at = in.now;
  std::string name = job.name.empty() ? std::string(job.id.view()) : Cut(job.name.view());
  std::string what = DescribeFinding(f, owner);
  if (near) {
    if (f.severity == Severity::kViolation) {
      Put(a.annotations, "summary", "Job " + name + " is being cancelled by rc-watchdog");
    } else if (f.cancel_at) {
      Put(a.annotations, "summary",
          "Job " + name + " will be cancelled at " + FormatTimestamp(*f.cancel_at) +
              (f.estimated ? " (estimated)" : "") + " if it is still running");
    } else {
      Put(a.annotations, "summary", "Job " + name + " is nearing a limit and will be cancelled");
    }
  } else {
    Put(a.annotations, "summary", "Job " + name + " is over a limit and is not cancelled: " + why);
  }
  Put(a.annotations, "description", what);
  Put(a.annotations, "observed", Number(f.observed));
  Put(a.annotations, "threshold", Number(f.threshold));
  if (near && f.cancel_at) {
    Put(a.annotations, "cancel_at", FormatTimestamp(*f.cancel_at));
    if (f.estimated) Put(a.annotations, "cancel_at_estimated", "true");
  }
  return a;
}

Alert FromNotice(const CancelNotice& n, const Config& c) {
  Subject s{n.job_id, n.name, n.itwin_id, n.user_id, n.type, n.policy, n.limit};
  // The owners' match reads the job as it was when it was cancelled.
  Job job;
  job.id = n.job_id;
  job.name = n.name;
  job.itwin_id = n.itwin_id;
  job.user_id = n.user_id;
  job.type = ParseJobType(n.type);
  Alert a = Make(kCancelled, "warning", s, *c.notify, job);
  a.starts_at = n.at;
  a.ends_at = n.at + kCancelledFor;
  std::string name = n.name.empty() ? n.job_id : Cut(n.name);
  Put(a.annotations, "summary",
      "Job " + name + " was cancelled by rc-watchdog (" + n.policy + ": " + n.limit + ")");
  Put(a.annotations, "description",
      n.limit + " " + Number(n.observed) + " over " + Number(n.threshold) + " [" + n.policy +
          "], cancelled at " + FormatTimestamp(n.at));
  Put(a.annotations, "observed", Number(n.observed));
  Put(a.annotations, "threshold", Number(n.threshold));
  return a;
}

}  // namespace

std::vector<Alert> FiringAlerts(const AlertInputs& in) {
  const Config& c = *in.config;
  const std::vector<Job>& jobs = *in.jobs;
  std::vector<Alert> out;
  std::set<std::string_view> cancelled;
  for (const CancelNotice& n : *in.notices) {
    out.push_back(FromNotice(n, c));
    cancelled.insert(n.job_id);
  }
  std::set<std::string_view> pending;
  for (const PendingCancel& p : *in.pending) pending.insert(p.job_id);
  std::set<std::string> seen;  // one alert per key
  for (const Finding& f : *in.findings) {
    if (cancelled.count(jobs[f.job_index].id.view())) continue;
    Alert a;
    if (f.severity == Severity::kWarn) {
      if (f.exempt || !PolicyCancels(c, f) || in.dry_run) continue;
      a = FromFinding(f, in, kNearLimit, "");
    } else {
      std::string why = NotCancelledBecause(f, in, pending);
      a = FromFinding(f, in, why.empty() ? kNearLimit : kOverLimit, why);
    }
    if (seen.insert(a.Key()).second) out.push_back(std::move(a));
  }
  return out;
}

CancelNotice NoticeOf(const PendingCancel& p, TimePoint at) {
  CancelNotice n;
  n.job_id = p.job_id;
  n.policy = p.policy;
  n.limit = p.limit;
  n.itwin_id = p.itwin_id;
  n.type = p.type;
  n.name = p.name;
  n.user_id = p.user_id;
  n.observed = p.observed;
  n.threshold = p.threshold;
  n.at = at;
  return n;
}

void AddNotice(std::vector<CancelNotice>& notices, CancelNotice n) {
  for (const CancelNotice& old : notices) {
    if (old.job_id == n.job_id) return;
  }
  notices.push_back(std::move(n));
}

void PruneNotices(std::vector<CancelNotice>& notices, TimePoint now) {
  std::erase_if(notices, [&](const CancelNotice& n) { return n.at + kCancelledFor <= now; });
}

}  // namespace rcw
