// A whole cycle after the HTTP layer, as Watchdog::CycleOrThrow runs it:
// decode every list page (DecodeJobPage, appending to a vector as the poller does),
// Assess() (ledger, rates, first-seen marks, budgets, policies), then
// Enforcer::Decide() (audit lines, safety limits, queueing), then the save
// of what changed to a state.db in a temporary directory (as Watchdog::Save),
// with a fake HTTP client that is never called and an audit sink that only
// counts.
//
// BM_Cycle/N: a steady-state poll (the state already holds the previous
// poll: ledger, markers, pending cancellations), the daemon's recurring cost.
// The previous poll's vector is cleared and its capacity reused for the new
// one, as Watchdog::CycleOrThrow does with last_jobs_. BM_CycleFirst/N: the first poll after start
// (empty state: every ended job enters the ledger, every finding is audited).
// Budget limits scale with the fleet so that no group is over budget;
// BM_CycleOverBudget/N keeps a 10,000-job fleet's limits: at 100,000 jobs
// every running job is over three budgets (the worst case for findings).
//
// Memory: built twice. rcw_bench_cycle has the plain allocator (timings);
// rcw_bench_memory links heap_counter.cpp, which replaces the global
// operator new/delete with counting ones, and adds the counters
//   bytes_per_job     heap held by the decoded std::vector<Job> per job
//                     (strings + vector slack, grown by push_back as the
//                     poller does), plus sizeof_job and field_heap_per_job
//                     (what the Job's strings own, without the vector);
//   heap_peak_MB      the highest heap in use during a cycle, minus the
//                     benchmark's own page bodies plus one page (the daemon
//                     holds one response body at a time): an estimate of the
//                     daemon's heap at the peak of a poll.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <map>

#include "api/request_gate.h"
#include "bench/bench_data.h"
#include "bench/heap_counter.h"
#include "enforce/enforcer.h"
#include "fakes/fake_api.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_http_client.h"
#include "fakes/temp_dir.h"
#include "json/decode.h"
#include "service/assess.h"
#include "state/state_store.h"

namespace {

using namespace rcw;

// Writes nothing: the cycle's audit cost without the disk.
class CountingAuditSink final : public AuditSink {
 public:
  using AuditSink::Append;
  Status Append(const std::vector<AuditEvent>& events) override {
    lines += events.size();
    return Status::Ok();
  }
  std::size_t lines = 0;
};

struct Inputs {
  std::vector<std::string> pages;
  std::size_t bytes = 0;
  std::size_t largest_page = 0;
  Config config;
};

// `over_budget`: budget limits for a 10,000-job fleet whatever the size, so
// at 100,000 jobs every group of every budget is over (the worst case);
// otherwise the limits scale with the fleet and no group is over.
const Inputs& InputsFor(std::size_t jobs, bool over_budget = false) {
  static std::map<std::pair<std::size_t, bool>, Inputs> cache;
  auto it = cache.find({jobs, over_budget});
  if (it != cache.end()) return it->second;
  bench::CorpusOptions o;
  o.jobs = jobs;
  o.itwins = 20;
  o.users = 100;
  o.running_fraction = 0.1;
  Inputs in;
  in.pages = bench::MakeListPages(o);
  in.bytes = bench::TotalBytes(in.pages);
  for (const std::string& p : in.pages) in.largest_page = std::max(in.largest_page, p.capacity());
  bench::ConfigOptions co;  // 8 policies with regexes, 4 budgets
  co.itwins = o.itwins;
  co.users = o.users;
  co.budget_scale = over_budget ? 1.0 : std::max(1.0, static_cast<double>(jobs) / 10000);
  in.config = bench::MakeConfig(co);
  return cache.emplace(std::make_pair(jobs, over_budget), std::move(in)).first->second;
}

// The daemon's long-lived parts, with fakes where an interface is needed.
struct World {
  explicit World(const Config& config) : books(config) { enforcer.SetConfig(&config, false); }

  testing::FakeClock clock{bench::BenchNow()};
  testing::FakeHttpClient http;  // never called: Decide sends nothing
  testing::FakeTokenSource tokens;
  RequestGate gate{clock};
  RealityConversionClient api{http, tokens, gate, clock, nullptr,
                              ClientOptions{"https://api.bentley.com/reality-conversion"}};
  CountingAuditSink audit;
  PersistentState state;
  Books books;
  Enforcer enforcer{api, audit, state, nullptr, 42};
  std::vector<Job> last_jobs;
  // state.db in a temporary directory, saved as Watchdog::Save does.
  testing::TempDir dir;
  StateStore store{dir.path()};
  long long state_rows = 0;  // rows the last save wrote
};

struct CycleResult {
  std::size_t jobs = 0, findings = 0, running = 0;
  bool ok = false;
};

// One poll's work after the HTTP layer (Watchdog::CycleOrThrow without the
// metrics export; the state is saved to a state.db in a temporary directory).
CycleResult RunCycle(const Inputs& in, World& w, std::string& error) {
  CycleResult r;
  // As Watchdog::CycleOrThrow: the previous listing's vector is reused.
  std::vector<Job> jobs = std::move(w.last_jobs);
  jobs.clear();
  for (const std::string& page : in.pages) {
    std::optional<std::string> next;
    Status s = DecodeJobPage(PaddedJson::Borrow(page), jobs, next);  // as ListJobs does
    if (!s.ok()) {
      error = "decode: " + s.ToString();
      return r;
    }
  }
  TimePoint now = w.clock.Now();
  Assessment a = Assess(in.config, jobs, true, w.state, w.books, now);
  CycleView view{&jobs, &a.eval.findings, true, a.running, now};
  if (Status s = w.enforcer.Decide(view, now); !s.ok()) {
    error = "decide: " + s.ToString();
    return r;
  }
  // As Watchdog::Save: what changed since the last save, in one transaction.
  w.books.Store(w.state);
  long long before = w.store.changes();
  if (Status s = w.store.Save(w.state, w.books.ledger.entries(), w.books.ledger.saved()); !s.ok()) {
    error = "save: " + s.ToString();
    return r;
  }
  w.books.ledger.MarkSaved();
  w.state_rows = w.store.changes() - before;
  r = {jobs.size(), a.eval.findings.size(), a.running, true};
  w.last_jobs = std::move(jobs);
  return r;
}

void Report(benchmark::State& state, const Inputs& in, const CycleResult& r, std::int64_t peak,
            std::int64_t base) {
  std::int64_t n = state.range(0);
  state.SetItemsProcessed(state.iterations() * n);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(in.bytes));
  state.counters["findings"] = static_cast<double>(r.findings);
  state.counters["running"] = static_cast<double>(r.running);
  state.counters["pages"] = static_cast<double>(in.pages.size());
  if (!bench::HeapCounting()) return;
  state.counters["heap_peak_MB"] =
      static_cast<double>(peak - base + static_cast<std::int64_t>(in.largest_page)) / 1e6;
}

void SteadyCycles(benchmark::State& state, const Inputs& in) {
  std::int64_t base = bench::HeapInUse();
  World w(in.config);
  std::string error;
  CycleResult r = RunCycle(in, w, error);  // the first poll, untimed
  std::size_t first_lines = w.audit.lines;
  bench::ResetHeapPeak();
  for (auto _ : state) {
    r = RunCycle(in, w, error);
    if (!r.ok || r.jobs != static_cast<std::size_t>(state.range(0))) {
      state.SkipWithError(("cycle failed: " + error).c_str());
      break;
    }
  }
  Report(state, in, r, bench::HeapPeak(), base);
  // Lines a steady poll writes (cancel_blocked for held-back violators).
  state.counters["audit_lines_per_cycle"] =
      static_cast<double>(w.audit.lines - first_lines) / static_cast<double>(state.iterations());
  state.counters["pending"] = static_cast<double>(w.state.pending.size());
  state.counters["ledger_entries"] = static_cast<double>(w.books.ledger.size());
  state.counters["state_rows_per_save"] = static_cast<double>(w.state_rows);
}

void BM_Cycle(benchmark::State& state) {
  SteadyCycles(state, InputsFor(static_cast<std::size_t>(state.range(0))));
}
BENCHMARK(BM_Cycle)
    ->ArgName("jobs")
    ->Arg(1000)
    ->Arg(10000)
    ->Arg(100000)
    ->Unit(benchmark::kMillisecond);

// Every running job is in a group over three budgets: a finding per job and
// budget, the circuit breaker holding them all.
void BM_CycleOverBudget(benchmark::State& state) {
  SteadyCycles(state, InputsFor(static_cast<std::size_t>(state.range(0)), true));
}
BENCHMARK(BM_CycleOverBudget)->ArgName("jobs")->Arg(100000)->Unit(benchmark::kMillisecond);

void BM_CycleFirst(benchmark::State& state) {
  const Inputs& in = InputsFor(static_cast<std::size_t>(state.range(0)));
  std::int64_t base = bench::HeapInUse();
  bench::ResetHeapPeak();
  CycleResult r;
  std::string error;
  for (auto _ : state) {
    World w(in.config);
    r = RunCycle(in, w, error);
    if (!r.ok) {
      state.SkipWithError(("cycle failed: " + error).c_str());
      break;
    }
  }
  Report(state, in, r, bench::HeapPeak(), base);
}
BENCHMARK(BM_CycleFirst)
    ->ArgName("jobs")
    ->Arg(1000)
    ->Arg(10000)
    ->Arg(100000)
    ->Unit(benchmark::kMillisecond);

// Heap held per decoded Job: the vector the poller fills (and Watchdog keeps
// until the next poll). Timed part: decoding, to have a rate for the smoke test.
void BM_JobMemory(benchmark::State& state) {
  const Inputs& in = InputsFor(static_cast<std::size_t>(state.range(0)));
  double per_job = 0, fields_per_job = 0;
  {  // the decoder's parser buffers are allocated once per thread: not per job
    std::optional<std::string> next;
    (void)DecodeJobPage(PaddedJson::Borrow(in.pages.front()), [](Job&&) {}, next);
  }
  for (auto _ : state) {
    std::int64_t before = bench::HeapInUse();
    std::vector<Job> jobs;
    for (const std::string& page : in.pages) {
      std::optional<std::string> next;
      (void)DecodeJobPage(PaddedJson::Borrow(page), jobs, next);
    }
    double n = static_cast<double>(jobs.size());
    double held = static_cast<double>(bench::HeapInUse() - before);
    per_job = held / n;
    // What the Job fields own on the heap, without the vector's own bytes.
    fields_per_job = (held - static_cast<double>(jobs.capacity() * sizeof(Job))) / n;
    benchmark::DoNotOptimize(jobs.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["sizeof_job"] = static_cast<double>(sizeof(Job));
  if (!bench::HeapCounting()) return;
  state.counters["bytes_per_job"] = per_job;
  state.counters["field_heap_per_job"] = fields_per_job;
}
BENCHMARK(BM_JobMemory)->ArgName("jobs")->Arg(100000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
