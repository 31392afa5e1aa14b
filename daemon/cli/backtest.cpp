#include "cli/backtest.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "base/timefmt.h"
#include "budget/estimates.h"
#include "budget/window.h"
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "config/loader.h"
#include "json/decode.h"
#include "state/state_store.h"

namespace rcw {
namespace {

constexpr const char* kUsage =
    "usage: rc-watchdog backtest -c FILE [--since 30d] [--until TIME] [--format table|json]\n"
    "                            [--jobs FILE...] [--with-history] [--explain JOB_ID]\n"
    "                            [--with-safety-limits]\n"
    "Replays the job history kept in the state database under the policies and\n"
    "budgets of FILE, as if they had been in force: jobs that would have been\n"
    "cancelled, processing units saved, successful jobs cut short. --jobs replays\n"
    "API list responses (e.g. an export) instead (with --with-history: as well).\n"
    "--since (default 30d) before --until (RFC 3339, default now) is the period.\n"
    "Safety limits are ignored unless --with-safety-limits; the report says what\n"
    "they would have held back. --explain JOB_ID prints one job's timeline.\n"
    "Sends no request and writes nothing. Exit 0 when the replay ran, 1 when the\n"
    "state cannot be read, 2 bad command line, 78 configuration error.\n";

int Fail(const std::string& message, int code) {
  std::fprintf(stderr, "rc-watchdog backtest: %s\n", message.c_str());
  return code;
}

// Takes "--jobs A [B...]" and "--jobs=A" out of `argv`: the files, in order.
std::vector<std::string> TakeJobsFiles(std::vector<std::string>& argv) {
  std::vector<std::string> files, rest;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    if (argv[i].rfind("--jobs=", 0) == 0) {
      files.push_back(argv[i].substr(7));
    } else if (argv[i] == "--jobs") {
      while (i + 1 < argv.size() && !argv[i + 1].empty() && argv[i + 1][0] != '-') {
        files.push_back(argv[++i]);
      }
      if (files.empty()) rest.push_back("--jobs");  // ParseArgs reports the missing value
    } else {
      rest.push_back(argv[i]);
    }
  }
  argv = std::move(rest);
  return files;
}

Status ReadJobsFile(const std::string& path, std::vector<Job>& jobs) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(StatusCode::kNotFound, "cannot read jobs file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  std::optional<std::string> next;
  Status s = DecodeJobPage(
      std::string_view(text.str()), [&](Job&& j) { jobs.push_back(std::move(j)); }, next);
  if (!s.ok()) return Status(StatusCode::kBadResponse, path + ": " + s.message());
  return Status::Ok();
}

// One record per job id: an ended record wins over a running one, else the
// first (history rows come first).
void Deduplicate(std::vector<Job>& jobs) {
  std::unordered_map<std::string, std::size_t> seen;
  std::vector<Job> out;
  out.reserve(jobs.size());
  for (Job& j : jobs) {
    auto [it, added] = seen.emplace(std::string(j.id.view()), out.size());
    if (added) {
      out.push_back(std::move(j));
    } else if (!out[it->second].ended && j.ended) {
      out[it->second] = std::move(j);
    }
  }
  jobs = std::move(out);
}

// How far back to read so that every budget window touching `from` is whole.
TimePoint ReadFrom(const Config& config, TimePoint from) {
  TimePoint start = from;
  for (const BudgetConfig& b : config.budgets) {
    Result<WindowCalculator> calc = WindowCalculator::Create(b.window, b.timezone);
    if (calc.ok()) start = std::min(start, calc->Containing(from).start);
  }
  return start;
}

struct Period {
  TimePoint from{}, to{};
};

int ParsePeriod(const Args& args, Period& p) {
  p.to = std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
  if (auto until = args.Value("--until")) {
    Result<TimePoint> t = ParseTimestamp(*until);
    if (!t.ok()) return Fail("--until: " + t.status().message(), kExitUsage);
    p.to = *t;
  }
  Result<Seconds> since = ParseDuration(args.Value("--since").value_or("30d"));
  if (!since.ok()) return Fail("--since: " + since.status().message(), kExitUsage);
  if (since->count() <= 0) return Fail("--since must be > 0", kExitUsage);
  p.from = p.to - *since;
  return kExitOk;
}

}  // namespace

int RunBacktest(const std::vector<std::string>& argv_in) {
  std::vector<std::string> argv = argv_in;
  std::vector<std::string> files = TakeJobsFiles(argv);
  Args args = ParseArgs(argv, {"--config", "--format", "--since", "--until", "--explain", "--jobs"},
                        {"--with-safety-limits", "--with-history"});
  if (args.Has("--help")) return std::fputs(kUsage, stdout), kExitOk;
  if (!args.error.empty() || !args.positional.empty()) {
    std::fprintf(stderr, "rc-watchdog backtest: %s\n%s",
                 args.error.empty() ? "unexpected argument" : args.error.c_str(), kUsage);
    return kExitUsage;
  }
  std::string format = args.Value("--format").value_or("table");
  if (format != "table" && format != "json")
    return Fail("--format must be table or json", kExitUsage);
  Period period;
  if (int rc = ParsePeriod(args, period); rc != kExitOk) return rc;
  LoadOptions options;
  options.resolve_secrets = false;  // sends no request
  LoadResult loaded = LoadConfigFile(args.Value("--config").value_or(kDefaultConfigPath), options);
  if (!loaded.ok()) return PrintConfigErrors(loaded.errors), kExitConfig;
  const Config& config = *loaded.config;

  std::vector<Job> jobs;
  Coverage coverage;
  coverage.history = files.empty() || args.Has("--with-history");
  RateEstimator rates(config);
  if (coverage.history) {
    StateStore store(config.state_directory);
    Result<PersistentState> state = store.LoadReadOnly();
    if (!state.ok())
      return Fail("cannot read the state: " + state.status().message(), kExitFailure);
    rates.Restore(state->rates);
    Result<StateStore::HistoryRead> history =
        store.ReadHistoryReadOnly(ReadFrom(config, period.from), period.to);
    if (!history.ok())
      return Fail("cannot read the history: " + history.status().message(), kExitFailure);
    coverage.oldest = history->oldest;
    jobs = std::move(history->jobs);
  }
  for (const std::string& f : files) {
    if (Status s = ReadJobsFile(f, jobs); !s.ok()) return Fail(s.message(), kExitFailure);
  }
  Deduplicate(jobs);
  BacktestOptions bo{period.from, period.to, args.Has("--with-safety-limits")};
  BacktestReport report = Replay(config, jobs, rates, bo);
  std::string out;
  if (auto id = args.Value("--explain")) {
    out = RenderExplain(config, jobs, report, *id);
    if (out.empty()) return Fail("job " + *id + " is not among the replayed jobs", kExitFailure);
  } else {
    out = RenderBacktest(config, jobs, report, coverage,
                         format == "json" ? BacktestFormat::kJson : BacktestFormat::kTable,
                         bo.with_safety_limits);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

}  // namespace rcw
