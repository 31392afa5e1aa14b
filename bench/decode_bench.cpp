// Decoding list pages: DecodeJobPage (the daemon's decoder) side by side with
// simdjson on the same padded bytes. The ratio in RESULTS.md divides
// DecodeJobPage's bytes/s by BM_SimdjsonDomParse's: the decoder is built on
// the DOM parser (it must validate the whole body), so a DOM parse of the
// page is its floor. The DOM walk and On-Demand variants show what touching
// the same fields costs without building Jobs, for reference.
#include <benchmark/benchmark.h>
#include <simdjson.h>
#include <time.h>

#include "bench/bench_data.h"
#include "json/decode.h"

namespace {

using rcw::bench::CorpusOptions;

// One page of 1000 jobs, built once.
const std::string& Page() {
  static const std::string page = [] {
    // 1001 jobs in pages of 1000: the first page has a next link, like
    // every page but the last of a big listing.
    CorpusOptions o;
    o.jobs = 1001;
    o.page_size = 1000;
    std::vector<std::string> pages = rcw::bench::MakeListPages(o);
    return std::move(pages.front());  // a move keeps the padded capacity
  }();
  return page;
}

constexpr int64_t kJobsPerPage = 1000;

void SetCounters(benchmark::State& state, std::size_t bytes) {
  state.SetItemsProcessed(state.iterations() * kJobsPerPage);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes));
}

// Decodes the page once per iteration with `decode(page, jobs, next)`, into a
// vector whose capacity is kept, and checks every iteration's result.
template <typename Decode>
void DecodeLoop(benchmark::State& state, Decode decode) {
  const std::string& page = Page();
  if (!rcw::PaddedJson::Borrow(page).borrowed()) {
    state.SkipWithError("the page lost its padding: DecodeJobPage would copy it");
    return;
  }
  std::vector<rcw::Job> jobs;
  jobs.reserve(kJobsPerPage);
  for (auto _ : state) {
    jobs.clear();
    std::optional<std::string> next;
    rcw::Status s = decode(rcw::PaddedJson::Borrow(page), jobs, next);
    if (!s.ok() || jobs.size() != kJobsPerPage || !next) {
      state.SkipWithError(("DecodeJobPage failed: " + s.ToString()).c_str());
      break;
    }
    benchmark::DoNotOptimize(jobs.data());
  }
  SetCounters(state, page.size());
}

void BM_DecodeJobPage(benchmark::State& state) {
  DecodeLoop(state, [](const rcw::PaddedJson& body, std::vector<rcw::Job>& jobs,
                       std::optional<std::string>& next) {
    return rcw::DecodeJobPage(body, [&](rcw::Job&& j) { jobs.push_back(std::move(j)); }, next);
  });
}
BENCHMARK(BM_DecodeJobPage);

// The overload that appends to a vector in place (no temporary Job, no
// std::function): the poller's path, through RealityConversionClient::ListJobs.
void BM_DecodeJobPageIntoVector(benchmark::State& state) {
  DecodeLoop(state, [](const rcw::PaddedJson& body, std::vector<rcw::Job>& jobs,
                       std::optional<std::string>& next) {
    return rcw::DecodeJobPage(body, jobs, next);
  });
}
BENCHMARK(BM_DecodeJobPageIntoVector);

// A DOM parser sized for `bytes` at the decoder's depth limit; false (and
// the benchmark marked failed) when it cannot be.
bool Allocate(benchmark::State& state, simdjson::dom::parser& parser, std::size_t bytes) {
  if (!parser.allocate(bytes, rcw::kJsonMaxDepth)) return true;
  state.SkipWithError("allocate failed");
  return false;
}

void BM_SimdjsonDomParse(benchmark::State& state) {
  const std::string& page = Page();
  simdjson::dom::parser parser;
  if (!Allocate(state, parser, page.size())) return;
  for (auto _ : state) {
    simdjson::dom::element root;
    if (parser.parse(page.data(), page.size(), false).get(root)) {
      state.SkipWithError("parse failed");
      break;
    }
    benchmark::DoNotOptimize(root);
  }
  SetCounters(state, page.size());
}
BENCHMARK(BM_SimdjsonDomParse);

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// The ratio RESULTS.md reports: each iteration parses the page with the DOM
// parser, then decodes it with DecodeJobPage, timing both with the thread's
// CPU clock, so that on a shared machine both sides see the same load.
// ratio = DOM parse time / DecodeJobPage time (= decode speed / parse speed).
void BM_DecodeVsDomParse(benchmark::State& state) {
  const std::string& page = Page();
  simdjson::dom::parser parser;
  if (!Allocate(state, parser, page.size())) return;
  std::vector<rcw::Job> jobs;
  jobs.reserve(kJobsPerPage);
  double parse_s = 0, decode_s = 0;
  for (auto _ : state) {
    double t0 = ThreadCpuSeconds();
    simdjson::dom::element root;
    bool parsed = parser.parse(page.data(), page.size(), false).get(root) == simdjson::SUCCESS;
    benchmark::DoNotOptimize(root);
    double t1 = ThreadCpuSeconds();
    jobs.clear();
    std::optional<std::string> next;
    rcw::Status s = rcw::DecodeJobPage(rcw::PaddedJson::Borrow(page),
                                       [&](rcw::Job&& j) { jobs.push_back(std::move(j)); }, next);
    double t2 = ThreadCpuSeconds();
    if (!parsed || !s.ok() || jobs.size() != kJobsPerPage) {
      state.SkipWithError("parse or decode failed");
      break;
    }
    parse_s += t1 - t0;
    decode_s += t2 - t1;
  }
  state.SetItemsProcessed(state.iterations() * kJobsPerPage);
  if (decode_s > 0) state.counters["ratio"] = parse_s / decode_s;
}
BENCHMARK(BM_DecodeVsDomParse);

// DOM parse, then read every field DecodeJobPage reads, as string_views and
// numbers (no Job, no allocation, no timestamp parsing).
void BM_SimdjsonDomWalk(benchmark::State& state) {
  const std::string& page = Page();
  simdjson::dom::parser parser;
  if (!Allocate(state, parser, page.size())) return;
  for (auto _ : state) {
    simdjson::dom::element root;
    if (parser.parse(page.data(), page.size(), false).get(root)) {
      state.SkipWithError("parse failed");
      break;
    }
    std::size_t touched = 0;
    for (simdjson::dom::element job : root["jobs"].get_array()) {
      for (auto [key, value] : job.get_object()) {
        if (key == "executionInfo") {
          for (auto [k, v] : value.get_object()) {
            if (v.is_string()) touched += std::string_view(v.get_string().value_unsafe()).size();
            else if (v.is_number()) touched += v.get_double().value_unsafe() > 0;
          }
        } else if (key != "specifications" && value.is_string()) {
          touched += std::string_view(value.get_string().value_unsafe()).size();
        }
      }
    }
    benchmark::DoNotOptimize(touched);
  }
  SetCounters(state, page.size());
}
BENCHMARK(BM_SimdjsonDomWalk);

// On-Demand: reads the same fields and skips `specifications` unvalidated
// (which is why the daemon does not use it; see daemon/json/decode.cpp).
void BM_SimdjsonOnDemand(benchmark::State& state) {
  const std::string& page = Page();
  simdjson::ondemand::parser parser;
  for (auto _ : state) {
    simdjson::ondemand::document doc;
    if (parser.iterate(page.data(), page.size(), page.capacity()).get(doc)) {
      state.SkipWithError("iterate failed");
      break;
    }
    std::size_t touched = 0;
    bool ok = true;
    for (auto field : doc.get_object()) {
      std::string_view top;
      if (field.unescaped_key().get(top)) { ok = false; break; }
      if (top != "jobs") continue;
      for (auto job : field.value().get_array()) {
        for (auto f : job.get_object()) {
          std::string_view key;
          if (f.unescaped_key().get(key)) { ok = false; break; }
          if (key == "specifications") continue;
          if (key == "executionInfo") {
            for (auto e : f.value().get_object()) {
              simdjson::ondemand::value v = e.value().value_unsafe();
              double d;
              std::string_view s;
              if (!v.get_string().get(s)) touched += s.size();
              else if (!v.get_double().get(d)) touched += d > 0;
            }
            continue;
          }
          std::string_view s;
          if (!f.value().get_string().get(s)) touched += s.size();
        }
      }
    }
    if (!ok) {
      state.SkipWithError("iteration failed");
      break;
    }
    benchmark::DoNotOptimize(touched);
  }
  SetCounters(state, page.size());
}
BENCHMARK(BM_SimdjsonOnDemand);

}  // namespace

BENCHMARK_MAIN();
