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

// Forgets once-only markers of jobs that are no longer running.
void PruneMarkers(const std::vector<Job>& jobs, PersistentState& state) {
  std::unordered_set<std::string_view> running;
  for (const Job& j : jobs) {
    if (!IsTerminal(j.state)) running.insert(j.id);
  }
  auto stale = [&](const std::string& key) {
    return !running.count(std::string_view(key).substr(0, key.find('|')));
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
}

void Books::Store(PersistentState& state) const {
  state.rates = rates.Learned();
  state.ledger_pruned_before = ledger.pruned_before();
}

Assessment Assess(const Config& config, const std::vector<Job>& jobs, bool complete,
                  PersistentState& state, Books& books, TimePoint now) {
  Assessment a;
  for (std::uint32_t i = 0; i < jobs.size(); ++i) {
    const Job& j = jobs[i];
    if (IsRunning(j.state)) ++a.running;
    if (!IsTerminal(j.state) || !j.ended || !j.processing_units) continue;
    if (books.ledger.Record(j)) {
      a.newly_ended.push_back(i);
      books.rates.Learn(j);
    }
  }
  books.ledger.Prune(LedgerHorizon(config, now));
  TrackFirstSeen(jobs, complete, state, now);
  if (complete) PruneMarkers(jobs, state);
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
