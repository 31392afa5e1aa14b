#include "service/assess.h"

#include <algorithm>
#include <unordered_set>

#include "policy/engine.h"

namespace rcw {
namespace {

void TrackFirstSeen(const std::vector<Job>& jobs, bool complete, PersistentState& state,
                    TimePoint now) {
  std::unordered_set<std::string_view> active;
  for (const Job& j : jobs) {
    if (j.state != JobState::kActive || j.started) continue;
    state.first_seen_active.emplace(j.id, now);
    active.insert(j.id);
  }
  if (!complete) return;
  std::erase_if(state.first_seen_active, [&](const auto& kv) { return !active.count(kv.first); });
}

// Forgets once-only markers of jobs that are no longer running, per iTwin: a
// marker goes when a listing that covered its iTwin (the whole listing, or
// that iTwin's own listing, complete) no longer shows its job running, so one
// iTwin that fails forever (403) does not keep every other iTwin's markers.
// Markers of followed jobs wait for a complete listing (their GETs run then).
void PruneMarkers(const Config& config, const std::vector<Job>& jobs, bool complete,
                  const std::set<std::string>& incomplete_itwins, PersistentState& state) {
  bool per_itwin = !config.watch.itwins.empty();
  if (!complete && !per_itwin) return;
  std::unordered_set<std::string_view> running;
  for (const Job& j : jobs) {
    if (!IsTerminal(j.state)) running.insert(j.id);
  }
  auto stale = [&](const JobMarker& m) {
    if (running.count(m.job_id)) return false;
    if (complete) return true;
    return !m.itwin_id.empty() && !incomplete_itwins.count(m.itwin_id) &&
           !state.followed.count(m.job_id);
  };
  std::erase_if(state.warned, stale);
  std::erase_if(state.violated, stale);
}

}  // namespace

void Books::Restore(PersistentState& state) {
  ledger.Restore(std::move(state.ledger));
  state.ledger = {};  // moved from: also release its capacity
  ledger.set_pruned_before(state.ledger_pruned_before);
  rates.Restore(state.rates);
  history.set_last_prune(state.history_pruned_at);
}

void Books::Store(PersistentState& state) const {
  state.rates = rates.Learned();
  state.ledger_pruned_before = ledger.pruned_before();
  state.history_pruned_at = history.last_prune();
}

Assessment Assess(const Config& config, const std::vector<Job>& jobs, bool complete,
                  PersistentState& state, Books& books, TimePoint now,
                  const std::set<std::string>& incomplete_itwins) {
  Assessment a;
  for (std::uint32_t i = 0; i < jobs.size(); ++i) {
    const Job& j = jobs[i];
    if (IsRunning(j.state)) ++a.running;
    if (!IsTerminal(j.state) || !j.ended) continue;
    if (!j.processing_units) {
      books.history.AddUncounted(jobs, i);
      continue;
    }
    // Its history row comes from the ledger entry (HistoryBatch::counted).
    if (books.ledger.Record(j)) {
      a.newly_ended.push_back(i);
      books.rates.Learn(j);
    }
  }
  if (complete) {
    std::unordered_set<std::string_view> listed;
    for (const Job& j : jobs) {
      if (IsTerminal(j.state) && !j.processing_units) listed.insert(j.id);
    }
    books.history.ForgetUncounted([&](const std::string& id) { return listed.count(id) > 0; });
  }
  books.history.PlanPrune(now, config.history_retention);
  books.ledger.Prune(LedgerHorizon(config, now));
  TrackFirstSeen(jobs, complete, state, now);
  PruneMarkers(config, jobs, complete, incomplete_itwins, state);
  a.budgets = EvaluateBudgets(config, books.ledger, books.rates, jobs, now);
  EvalInputs in;
  in.config = &config;
  in.jobs = &jobs;
  in.first_seen_active = [&state](std::string_view id) -> std::optional<TimePoint> {
    auto it = state.first_seen_active.find(id);
    if (it == state.first_seen_active.end()) return std::nullopt;
    return it->second;
  };
  in.rates = &books.rates;
  in.budgets = &a.budgets;
  in.now = now;
  a.eval = Evaluate(in);
  return a;
}

}  // namespace rcw
