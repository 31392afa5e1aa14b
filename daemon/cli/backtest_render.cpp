#include <algorithm>
#include <cstdio>

#include "base/json_writer.h"
#include "base/timefmt.h"
#include "cli/backtest.h"

namespace rcw {
namespace {

std::string Pu(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string Span(double seconds) {
  return FormatDuration(Seconds(static_cast<std::int64_t>(seconds + 0.5)));
}

// Columns padded to their widest cell, two spaces apart.
std::string Columns(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width;
  for (const auto& r : rows) {
    width.resize(std::max(width.size(), r.size()));
    for (std::size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t c = 0; c < r.size(); ++c) {
      line += r[c];
      if (c + 1 < r.size()) line += std::string(width[c] - r[c].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

std::string NameOf(const Job& j) {
  std::string n(j.name.view().substr(0, 40));
  return n.empty() ? "-" : n;
}

// Outcomes that cancelled, biggest saving first (ties: earlier first).
std::vector<const JobOutcome*> BySaving(const BacktestReport& r) {
  std::vector<const JobOutcome*> v;
  for (const JobOutcome& o : r.outcomes) {
    if (o.cancelled) v.push_back(&o);
  }
  std::stable_sort(v.begin(), v.end(), [](const JobOutcome* a, const JobOutcome* b) {
    return a->pu_saved > b->pu_saved;
  });
  return v;
}

std::string CoverageNote(const BacktestReport& r, const Coverage& c) {
  if (!c.history) return "";
  if (!c.oldest) return "note: the state database holds no job history yet: nothing to replay\n";
  double asked = std::chrono::duration<double>(r.to - r.from).count();
  // A history that starts within 1 % of the period (at least 1h) is whole:
  // the first job of the period simply ended a little after its start.
  if (std::chrono::duration<double>(*c.oldest - r.from).count() <= std::max(3600.0, asked / 100)) {
    return "";
  }
  double have = std::chrono::duration<double>(r.to - std::max(r.from, *c.oldest)).count();
  return "note: the history covers only " + Span(std::max(0.0, have)) + " of the " + Span(asked) +
         " asked for (it starts " + FormatTimestamp(*c.oldest) + ")\n";
}

std::string SafetyNote(const BacktestReport& r, bool applied) {
  std::string counts = std::to_string(r.held_back) + " (max_cancels_per_cycle " +
                       std::to_string(r.held_max_per_cycle) + ", max_cancels_per_hour " +
                       std::to_string(r.held_max_per_hour) + ", circuit breaker " +
                       std::to_string(r.held_circuit_breaker) + "), " +
                       std::to_string(r.held_back_for_good) + " of them until the job ended";
  if (applied) return "safety limits: applied; they held back " + counts + "\n";
  return "safety limits: ignored; with them the config would have held back " + counts +
         " (--with-safety-limits applies them)\n";
}

std::string Table(const Config& config, const std::vector<Job>& jobs, const BacktestReport& r,
                  const Coverage& c, bool safety) {
  std::string out = "backtest of " + config.path + " from " + FormatTimestamp(r.from) + " to " +
                    FormatTimestamp(r.to) + ": " + std::to_string(r.jobs_seen) + " jobs\n";
  out += CoverageNote(r, c);
  std::vector<std::vector<std::string>> rows = {{"POLICY", "ACTION", "OVER LIMIT", "CANCELLED",
                                                 "PU SAVED", "SUCCESSES CUT SHORT", "PU LOST",
                                                 "MEDIAN OVERRUN", "WORST OVERRUN"}};
  for (const PolicySummary& p : r.policies) {
    rows.push_back({p.name, p.report_only ? "report" : "cancel", std::to_string(p.jobs_over_limit),
                    std::to_string(p.jobs_cancelled), Pu(p.pu_saved),
                    std::to_string(p.successes_cut_short), Pu(p.pu_lost), Span(p.median_overrun_s),
                    Span(p.worst_overrun_s)});
  }
  if (!r.policies.empty()) out += "\n" + Columns(rows);
  if (!config.budgets.empty()) {
    rows = {{"BUDGET", "GROUP", "WINDOW", "CROSSED AT", "CANCELLED", "PU SAVED"}};
    for (const BudgetCrossing& b : r.budgets) {
      rows.push_back({b.name, b.group, b.window, FormatTimestamp(b.crossed_at),
                      std::to_string(b.jobs_cancelled), Pu(b.pu_saved)});
    }
    out += "\n" + (r.budgets.empty() ? std::string("no budget was exceeded\n") : Columns(rows));
  }
  out += "\n" + SafetyNote(r, safety);
  std::vector<const JobOutcome*> saved = BySaving(r);
  rows = {{"JOB ID", "NAME", "BY", "LIMIT", "CANCEL AT", "STATE", "PU", "PU SAVED"}};
  for (std::size_t k = 0; k < saved.size() && k < 10; ++k) {
    const JobOutcome& o = *saved[k];
    const Job& j = jobs[o.job_index];
    rows.push_back({std::string(j.id.view()), NameOf(j), o.owner, o.limit,
                    FormatTimestamp(o.cancel_at), std::string(j.StateText()),
                    o.pu_known ? Pu(o.pu) : "-", Pu(o.pu_saved)});
  }
  if (!saved.empty()) out += "\nbiggest savings:\n" + Columns(rows);
  rows = {{"JOB ID", "NAME", "BY", "LIMIT", "CANCEL AT", "PU", "PU LOST"}};
  for (const JobOutcome& o : r.outcomes) {
    if (!o.success_cut_short) continue;
    const Job& j = jobs[o.job_index];
    rows.push_back({std::string(j.id.view()), NameOf(j), o.owner, o.limit,
                    FormatTimestamp(o.cancel_at), Pu(o.pu), Pu(o.pu_lost)});
  }
  if (rows.size() > 1) out += "\nsuccessful jobs cut short:\n" + Columns(rows);
  return out;
}

std::string Json(const std::vector<Job>& jobs, const BacktestReport& r, const Coverage& c,
                 bool safety) {
  JsonWriter w;
  w.BeginObject().Key("period").BeginObject();
  w.Key("from").String(FormatTimestamp(r.from)).Key("to").String(FormatTimestamp(r.to));
  w.EndObject();
  w.Key("history_from");
  if (c.history && c.oldest) {
    w.String(FormatTimestamp(*c.oldest));
  } else {
    w.Null();
  }
  w.Key("jobs_seen").Int(static_cast<std::int64_t>(r.jobs_seen));
  w.Key("policies").BeginArray();
  for (const PolicySummary& p : r.policies) {
    w.BeginObject().Key("name").String(p.name).Key("action").String(p.report_only ? "report"
                                                                                  : "cancel");
    w.Key("jobs_over_limit").Int(static_cast<std::int64_t>(p.jobs_over_limit));
    w.Key("jobs_cancelled").Int(static_cast<std::int64_t>(p.jobs_cancelled));
    w.Key("pu_saved").Number(p.pu_saved);
    w.Key("successes_cut_short").Int(static_cast<std::int64_t>(p.successes_cut_short));
    w.Key("pu_lost").Number(p.pu_lost);
    w.Key("median_overrun_seconds").Number(p.median_overrun_s);
    w.Key("worst_overrun_seconds").Number(p.worst_overrun_s);
    w.EndObject();
  }
  w.EndArray().Key("budgets").BeginArray();
  for (const BudgetCrossing& b : r.budgets) {
    w.BeginObject().Key("name").String(b.name).Key("group").String(b.group);
    w.Key("window").String(b.window).Key("crossed_at").String(FormatTimestamp(b.crossed_at));
    w.Key("jobs_cancelled").Int(static_cast<std::int64_t>(b.jobs_cancelled));
    w.Key("pu_saved").Number(b.pu_saved).EndObject();
  }
  w.EndArray().Key("safety_limits").BeginObject();
  w.Key("applied").Bool(safety).Key("held_back").Int(static_cast<std::int64_t>(r.held_back));
  w.Key("held_back_until_job_ended").Int(static_cast<std::int64_t>(r.held_back_for_good));
  w.EndObject().Key("jobs").BeginArray();
  for (const JobOutcome& o : r.outcomes) {
    const Job& j = jobs[o.job_index];
    w.BeginObject().Key("id").String(j.id.view()).Key("name").String(j.name.view());
    w.Key("policy").String(o.owner).Key("limit").String(o.limit);
    w.Key("cancel_at").String(FormatTimestamp(o.cancel_at)).Key("state").String(j.StateText());
    w.Key("pu");
    if (o.pu_known) {
      w.Number(o.pu);
    } else {
      w.Null();
    }
    w.Key("pu_saved").Number(o.pu_saved).Key("cancelled").Bool(o.cancelled);
    w.Key("cut_short").Bool(o.success_cut_short).Key("pu_lost").Number(o.pu_lost);
    w.Key("held_back").Bool(o.held_back).EndObject();
  }
  w.EndArray().EndObject();
  return w.Take() + "\n";
}

}  // namespace

std::string RenderBacktest(const Config& config, const std::vector<Job>& jobs,
                           const BacktestReport& report, const Coverage& coverage,
                           BacktestFormat format, bool with_safety_limits) {
  if (format == BacktestFormat::kJson) return Json(jobs, report, coverage, with_safety_limits);
  return Table(config, jobs, report, coverage, with_safety_limits);
}

std::string RenderExplain(const Config& config, const std::vector<Job>& jobs,
                          const BacktestReport& r, std::string_view job_id) {
  std::uint32_t i = 0;
  while (i < jobs.size() && jobs[i].id.view() != job_id) ++i;
  if (i == jobs.size()) return "";
  const Job& j = jobs[i];
  std::vector<std::pair<TimePoint, std::string>> events = {{j.created, "created (Queued)"}};
  if (j.started) events.emplace_back(*j.started, "started (Active)");
  for (std::uint32_t h = r.hit_begin[i]; h < r.hit_begin[i + 1]; ++h) {
    const PolicyHit& hit = r.hits[h];
    const PolicyConfig& p = config.policies[hit.policy_index];
    std::string owner = p.name + ": " + std::string(ToString(hit.limit));
    events.emplace_back(hit.crossed_at, owner + " crossed");
    events.emplace_back(hit.violated_at, owner + " over limit (grace " + FormatDuration(p.grace) +
                                             "): " +
                                             (hit.exempt    ? "exempt, never cancelled"
                                              : hit.cancels ? "would cancel"
                                                            : "report only"));
  }
  for (const JobOutcome& o : r.outcomes) {
    if (o.job_index != i || !o.cancelled) continue;
    std::string what = "cancelled by " + o.owner + " (" + o.limit + "): saves " + Pu(o.pu_saved) +
                       " of " + (o.pu_known ? Pu(o.pu) : std::string("?")) + " PU";
    if (o.success_cut_short) what += "; a success cut short, " + Pu(o.pu_lost) + " PU lost";
    if (o.held_back) what += "; held back by the safety limits";
    events.emplace_back(o.cancel_at, what);
  }
  if (j.ended) {
    std::string pu = j.processing_units ? Pu(*j.processing_units) + " PU" : "no PU reported";
    events.emplace_back(*j.ended, "ended " + std::string(j.StateText()) + ", " + pu);
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out = "job " + std::string(j.id.view()) + " \"" + NameOf(j) + "\" " +
                    std::string(j.TypeText()) + ", iTwin " + std::string(j.itwin_id.view()) +
                    ", user " + std::string(j.user_id.view()) + "\n";
  for (const auto& [t, what] : events) out += "  " + FormatTimestamp(t) + "  " + what + "\n";
  bool any = std::any_of(r.outcomes.begin(), r.outcomes.end(),
                         [&](const JobOutcome& o) { return o.job_index == i && o.cancelled; });
  if (!any) out += "  not cancelled by this config\n";
  return out;
}

}  // namespace rcw
