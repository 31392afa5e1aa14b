#include <cstdio>
#include <map>

#include "base/json_writer.h"
#include "base/timefmt.h"
#include "cli/plan.h"
#include "config/match.h"
#include "policy/engine.h"

namespace rcw {
namespace {

struct Row {
  std::string owner;   // policy or budget name
  std::string verdict; // ok | warn | would_cancel | report | exempt | over_budget
  const Finding* finding = nullptr;
};

// ok | warn | would_cancel | report (action report) | exempt | over_budget.
std::string VerdictOf(const Finding& f) {
  if (f.severity == Severity::kWarn) return "warn";
  if (f.limit == LimitKind::kBudget) return "over_budget";
  if (f.exempt) return "exempt";
  return f.cancel ? "would_cancel" : "report";
}

std::string Spaced(std::string verdict) {
  for (char& c : verdict) c = c == '_' ? ' ' : c;
  return verdict;
}

std::vector<Row> RowsFor(const Config& config, const Job& job, std::uint32_t index,
                         const std::multimap<std::uint32_t, const Finding*>& by_job) {
  std::vector<Row> rows;
  auto [lo, hi] = by_job.equal_range(index);
  for (std::uint32_t p = 0; p < config.policies.size(); ++p) {
    if (!Matches(config.policies[p].match, job)) continue;
    Row row{config.policies[p].name, "ok", nullptr};
    for (auto it = lo; it != hi; ++it) {
      if (it->second->policy_index == p) row.finding = it->second;
    }
    if (row.finding) row.verdict = VerdictOf(*row.finding);
    rows.push_back(row);
  }
  for (auto it = lo; it != hi; ++it) {
    const Finding* f = it->second;
    if (!f->budget_index) continue;
    rows.push_back({config.budgets[*f->budget_index].name, VerdictOf(*f), f});
  }
  return rows;
}

std::string Age(std::optional<Seconds> s) { return s ? FormatDuration(*s) : "-"; }

std::string Units(std::optional<double> pu, bool estimated) {
  if (!pu) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%.1f", estimated ? "~" : "", *pu);
  return buf;
}

// "listing: incremental, jobs created after 2026-...Z" per scope; one line
// when every scope was listed alike.
std::string ListingLines(const Listing& listing) {
  std::string out;
  bool alike = true;
  for (const ScopeListing& s : listing.scopes) {
    alike = alike && s.kind == listing.scopes.front().kind &&
            s.created_after == listing.scopes.front().created_after &&
            s.complete == listing.scopes.front().complete;
  }
  for (const ScopeListing& s : listing.scopes) {
    out += "listing: " + std::string(ToString(s.kind)) + ", jobs created after " +
           FormatTimestamp(s.created_after);
    if (!alike) out += s.scope.empty() ? " (own jobs)" : " (iTwin " + s.scope + ")";
    if (!s.complete) out += " (incomplete)";
    out += "\n";
    if (alike) break;
  }
  return out;
}

void ListingJson(JsonWriter& w, const Listing* listing) {
  w.Key("listing");
  if (!listing) {
    w.Null();
    return;
  }
  std::optional<TimePoint> earliest;
  for (const ScopeListing& s : listing->scopes) {
    if (!earliest || s.created_after < *earliest) earliest = s.created_after;
  }
  w.BeginObject().Key("kind").String(ToString(listing->kind()));
  w.Key("complete").Bool(listing->complete).Key("created_after");
  earliest ? w.String(FormatTimestamp(*earliest)) : w.Null();
  w.Key("scopes").BeginArray();
  for (const ScopeListing& s : listing->scopes) {
    w.BeginObject().Key("itwin_id");
    s.scope.empty() ? w.Null() : w.String(s.scope);
    w.Key("kind")
        .String(ToString(s.kind))
        .Key("created_after")
        .String(FormatTimestamp(s.created_after))
        .Key("complete")
        .Bool(s.complete)
        .EndObject();
  }
  w.EndArray().EndObject();
}

}  // namespace

std::string RenderPlan(const Config& config, const std::vector<Job>& jobs,
                       const PersistentState& state, const Assessment& a, TimePoint now,
                       PlanFormat format, const Listing* listing,
                       const RequestEconomy* economy) {
  std::multimap<std::uint32_t, const Finding*> by_job;
  for (const Finding& f : a.eval.findings) by_job.emplace(f.job_index, &f);
  JsonWriter w;
  std::string table;
  w.BeginObject().Key("now").String(FormatTimestamp(now));
  ListingJson(w, listing);
  if (economy) EconomyJson(w, *economy);
  w.Key("jobs").BeginArray();
  if (listing) table += ListingLines(*listing);
  char line[512];
  std::snprintf(line, sizeof line, "%-36s  %-20s  %-22s  %9s  %10s  %s\n", "JOB", "STATE", "TYPE",
                "TIME", "PU", "VERDICTS");
  table += line;
  for (std::uint32_t i = 0; i < jobs.size(); ++i) {
    const Job& job = jobs[i];
    if (IsTerminal(job.state)) continue;
    auto first_seen = state.first_seen_active.find(std::string_view(job.id));
    std::optional<TimePoint> seen;
    if (first_seen != state.first_seen_active.end()) seen = first_seen->second;
    std::optional<Seconds> running = RunningFor(job, seen, now);
    std::vector<Row> rows = RowsFor(config, job, i, by_job);
    std::string verdicts;
    w.BeginObject().Key("id").String(job.id).Key("name").String(job.name)
        .Key("state").String(job.StateText()).Key("type").String(job.TypeText())
        .Key("itwin_id").String(job.itwin_id).Key("user_id").String(job.user_id);
    w.Key(job.state == JobState::kQueued ? "queued_seconds" : "runtime_seconds");
    running ? w.Int(running->count()) : w.Null();
    w.Key("processing_units");
    job.processing_units ? w.Number(*job.processing_units) : w.Null();
    w.Key("verdicts").BeginArray();
    for (const Row& r : rows) {
      w.BeginObject().Key(r.finding && r.finding->budget_index ? "budget" : "policy").String(r.owner)
          .Key("verdict").String(r.verdict);
      std::string reason = r.finding ? DescribeFinding(*r.finding, r.owner) : "within limits";
      if (r.finding) {
        w.Key("limit").String(ToString(r.finding->limit)).Key("observed").Number(r.finding->observed)
            .Key("threshold").Number(r.finding->threshold);
        // When a warned job will be cancelled if nothing changes (as in the
        // RcWatchdogJobNearLimit alert).
        const Finding& f = *r.finding;
        if (f.cancel_at && r.verdict == "warn" && !f.exempt && f.policy_index &&
            config.policies[*f.policy_index].action == PolicyAction::kCancel) {
          w.Key("cancel_at").String(FormatTimestamp(*r.finding->cancel_at));
          w.Key("cancel_at_estimated").Bool(r.finding->estimated);
          reason += ", cancel at " + FormatTimestamp(*r.finding->cancel_at) +
                    (r.finding->estimated ? " (estimated)" : "");
        }
      }
      w.Key("reason").String(reason).EndObject();
      verdicts += (verdicts.empty() ? "" : "; ") + r.owner + ": " + Spaced(r.verdict) +
                  (r.finding ? " (" + reason + ")" : "");
    }
    w.EndArray().EndObject();
    std::snprintf(line, sizeof line, "%-36s  %-20s  %-22s  %9s  %10s  ", job.id.str().c_str(),
                  std::string(job.StateText()).c_str(), std::string(job.TypeText()).c_str(),
                  Age(running).c_str(), Units(job.processing_units, false).c_str());
    table += line + (verdicts.empty() ? "no policy applies" : verdicts) + "\n";
  }
  w.EndArray().Key("budgets").BeginArray();
  for (const BudgetGroupStatus& b : a.budgets) {
    const std::string& name = config.budgets[b.budget_index].name;
    std::string verdict = b.exceeded ? "over_budget" : b.warn ? "warn" : "ok";
    w.BeginObject().Key("budget").String(name).Key("group").String(b.group)
        .Key("window").String(b.window.label).Key("spent").Number(b.Spent())
        .Key("limit").Number(b.limit).Key("verdict").String(verdict).EndObject();
    std::snprintf(line, sizeof line, "budget %s group %s window %s: spent %.1f of %.1f: %s\n",
                  name.c_str(), b.group.c_str(), b.window.label.c_str(), b.Spent(), b.limit,
                  Spaced(verdict).c_str());
    table += line;
  }
  w.EndArray().EndObject();
  if (economy) table += EconomyLines(*economy);
  return format == PlanFormat::kJson ? w.Take() + "\n" : table;
}

}  // namespace rcw
