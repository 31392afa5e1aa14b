#include "cli/plan.h"
#include "cli/commands.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "base/log.h"
#include "base/timefmt.h"
#include "cli/args.h"
#include "cli/cli.h"
#include "config/loader.h"
#include "json/decode.h"
#include "service/api_stack.h"
#include "service/signal_waiter.h"
#include "service/corrected_clock.h"
#include "service/poller.h"
#include "state/state_store.h"

namespace rcw {
namespace {

constexpr const char* kUsage =
    "usage: rc-watchdog plan -c FILE [--format table|json] [--jobs FILE] [--at TIME]\n"
    "One poll against the API (or the jobs of FILE, the API's list-response JSON),\n"
    "then the verdict of every policy and budget for every watched job. Never sends\n"
    "DELETE. --at fixes \"now\" (RFC 3339) for offline tests of policies.\n";

Result<std::vector<Job>> ReadJobsFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(StatusCode::kNotFound, "cannot read jobs file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  std::vector<Job> jobs;
  std::optional<std::string> next;
  Status s = DecodeJobPage(std::string_view(text.str()), [&](Job&& j) { jobs.push_back(std::move(j)); }, next);
  if (!s.ok()) return Status(StatusCode::kBadResponse, path + ": " + s.message());
  return jobs;
}

// Jobs from the file or from one poll; `now` moves to the API's clock when
// polling corrects it.
// `listing` gets the poll's scopes (its jobs are moved to `jobs`). The
// listing is planned from the marks of the daemon's state and never
// committed: plan changes no state.
// `requests` counts the API requests the poll sent (not the token's).
int GatherJobs(const Args& args, const Config& config, PersistentState& state,
               std::vector<Job>& jobs, TimePoint& now, bool& complete,
               std::optional<Listing>& listing_out, int& requests) {
  if (auto file = args.Value("--jobs")) {
    Result<std::vector<Job>> r = ReadJobsFile(*file);
    if (!r.ok()) return std::fprintf(stderr, "rc-watchdog plan: %s\n", r.status().message().c_str()), kExitFailure;
    jobs = std::move(*r);
    return kExitOk;
  }
  SystemClock local;
  CorrectedClock clock(local);
  struct DateOnly final : ApiObserver {
    DateOnly(CorrectedClock& c, int& n) : clock(c), requests(n) {}
    void OnResponse(ApiOperation op, long, double) override {
      if (op != ApiOperation::kToken) ++requests;
    }
    void OnRateLimited(ApiOperation) override {}
    void OnServerDate(TimePoint server, TimePoint local_now) override { clock.OnServerDate(server, local_now); }
    CorrectedClock& clock;
    int& requests;
  } observer(clock, requests);
  ApiStack api(config, local, &observer);
  SignalWaiter waiter;  // a listing longer than the request ceiling paces itself
  api.client().SetWaiter(&waiter);
  Listing listing = PollJobs(api.client(), config, state, args.Value("--at") ? now : clock.Now());
  if (!args.Value("--at")) now = clock.Now();
  complete = listing.complete;
  if (!listing.complete) std::fprintf(stderr, "warning: %s\n", listing.error.c_str());
  jobs = std::move(listing.jobs);
  listing.jobs.clear();
  listing_out = std::move(listing);
  return kExitOk;
}

}  // namespace

int RunPlan(const std::vector<std::string>& argv) {
  Args args = ParseArgs(argv, {"--config", "--format", "--jobs", "--at"}, {});
  if (args.Has("--help")) return std::fputs(kUsage, stdout), kExitOk;
  if (!args.error.empty() || !args.positional.empty()) {
    std::fprintf(stderr, "rc-watchdog plan: %s\n%s", args.error.empty() ? "unexpected argument" : args.error.c_str(), kUsage);
    return kExitUsage;
  }
  std::string format_text = args.Value("--format").value_or("table");
  if (format_text != "table" && format_text != "json") {
    std::fprintf(stderr, "rc-watchdog plan: --format must be table or json\n");
    return kExitUsage;
  }
  TimePoint now = std::chrono::system_clock::now();
  if (auto at = args.Value("--at")) {
    Result<TimePoint> t = ParseTimestamp(*at);
    if (!t.ok()) return std::fprintf(stderr, "rc-watchdog plan: --at: %s\n", t.status().message().c_str()), kExitUsage;
    now = *t;
  }
  LoadOptions options;
  options.resolve_secrets = !args.Value("--jobs");
  LoadResult loaded = LoadConfigFile(args.Value("--config").value_or(kDefaultConfigPath), options);
  if (!loaded.ok()) {
    for (const ConfigError& e : loaded.errors) std::fprintf(stderr, "%s\n", e.ToString().c_str());
    return kExitConfig;
  }
  const Config& config = *loaded.config;
  // Offline plans start from an empty state so they are reproducible; online
  // plans read the daemon's state (ledger, first-seen times) when readable.
  PersistentState state;
  if (!args.Value("--jobs")) {
    // Read-only: a plan never creates, imports or writes state.db.
    Result<PersistentState> saved = StateStore(config.state_directory).LoadReadOnly();
    if (saved.ok()) state = std::move(*saved);
  }
  std::vector<Job> jobs;
  bool complete = true;
  std::optional<Listing> listing;
  int requests = 0;
  if (int rc = GatherJobs(args, config, state, jobs, now, complete, listing, requests);
      rc != kExitOk) {
    return rc;
  }
  std::optional<RequestEconomy> economy;
  if (listing) {
    economy = RequestEconomy{requests, listing->pages, listing->gets, config.watch.poll_interval,
                             config.api.max_requests_per_hour};
  }
  Books books(config);
  books.Restore(state);
  Assessment a = Assess(config, jobs, complete, state, books, now);
  std::string out = RenderPlan(config, jobs, state, a, now,
                               format_text == "json" ? PlanFormat::kJson : PlanFormat::kTable,
                               listing ? &*listing : nullptr, economy ? &*economy : nullptr);
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (!complete) {
    // What could be listed is shown, but a script must not take it for the
    // whole picture (wrong credentials, an unreachable API).
    std::fprintf(stderr, "rc-watchdog plan: the listing was incomplete (exit 1)\n");
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace rcw
