// Policy and budget evaluation on one core.
//
// BM_PolicyEvaluate/P/R: Evaluate() (daemon/policy/engine.h), called exactly
// as service/assess.cpp calls it, on 10,000 Queued/Active jobs against P
// policies (R=1: the templates' name_regex match/exempt rules included,
// R=0: none). items_per_second = job-policy checks per second = running jobs
// x policies / time (Evaluate skips ended jobs, so only running ones count).
//
// BM_BudgetEvaluate/G: EvaluateBudgets() for 4 budgets (group_by itwin, user,
// type, all) over a 10,000-job listing whose ended jobs are in the ledger,
// with G iTwins and 5G users. items_per_second = listed jobs per second.
#include <benchmark/benchmark.h>

#include <map>

#include "bench/bench_data.h"
#include "budget/budget_eval.h"
#include "budget/estimates.h"
#include "budget/ledger.h"
#include "policy/engine.h"

namespace {

using namespace rcw;
using bench::ConfigOptions;
using bench::CorpusOptions;

constexpr std::size_t kJobs = 10000;

const std::vector<Job>& RunningJobs() {
  static const std::vector<Job> jobs = [] {
    CorpusOptions o;
    o.jobs = kJobs;
    o.running_fraction = 1.0;
    return bench::DecodeAll(bench::MakeListPages(o));
  }();
  return jobs;
}

void BM_PolicyEvaluate(benchmark::State& state) {
  ConfigOptions co;
  co.policies = static_cast<int>(state.range(0));
  co.regexes = state.range(1) != 0;
  co.budgets = false;
  const Config config = bench::MakeConfig(co);
  const std::vector<Job>& jobs = RunningJobs();
  // What the state holds for Active jobs without startedDateTime.
  std::map<std::string, TimePoint> first_seen;
  for (const Job& j : jobs) {
    if (j.state == JobState::kActive && !j.started) {
      first_seen.emplace(std::string(std::string_view(j.id)), bench::BenchNow() - Seconds{600});
    }
  }
  RateEstimator rates(config);
  std::size_t findings = 0;
  for (auto _ : state) {
    EvalInputs in;  // as Assess() builds it
    in.config = &config;
    in.jobs = &jobs;
    in.first_seen_active = [&first_seen](std::string_view id) -> std::optional<TimePoint> {
      auto it = first_seen.find(std::string(id));
      if (it == first_seen.end()) return std::nullopt;
      return it->second;
    };
    in.rates = &rates;
    in.now = bench::BenchNow();
    Evaluation ev = Evaluate(in);
    findings = ev.findings.size();
    benchmark::DoNotOptimize(ev);
  }
  if (findings == 0) state.SkipWithError("no finding: the inputs exercise nothing");
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(jobs.size()) *
                          state.range(0));
  state.counters["findings"] = static_cast<double>(findings);
  state.counters["jobs_per_second"] = benchmark::Counter(
      static_cast<double>(state.iterations() * jobs.size()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PolicyEvaluate)
    ->ArgNames({"policies", "regex"})
    ->Args({1, 0})
    ->Args({8, 0})
    ->Args({8, 1})
    ->Args({32, 1});

void BM_BudgetEvaluate(benchmark::State& state) {
  const int itwins = static_cast<int>(state.range(0));
  CorpusOptions o;
  o.jobs = kJobs;
  o.itwins = itwins;
  o.users = 5 * itwins;
  o.running_fraction = 0.1;
  const std::vector<Job> jobs = bench::DecodeAll(bench::MakeListPages(o));
  ConfigOptions co;
  co.policies = 1;
  co.itwins = itwins;
  co.users = o.users;
  const Config config = bench::MakeConfig(co);
  Ledger ledger;
  RateEstimator rates(config);
  for (const Job& j : jobs) {
    if (IsTerminal(j.state) && j.ended && j.processing_units && ledger.Record(j)) rates.Learn(j);
  }
  std::size_t groups = 0;
  for (auto _ : state) {
    std::vector<BudgetGroupStatus> st =
        EvaluateBudgets(config, ledger, rates, jobs, bench::BenchNow());
    groups = st.size();
    benchmark::DoNotOptimize(st);
  }
  if (groups == 0) state.SkipWithError("no budget group: the inputs exercise nothing");
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(jobs.size()));
  state.counters["groups"] = static_cast<double>(groups);
  state.counters["ledger_entries"] = static_cast<double>(ledger.size());
}
BENCHMARK(BM_BudgetEvaluate)->ArgName("itwins")->Arg(10)->Arg(100)->Arg(1000);

}  // namespace

BENCHMARK_MAIN();
