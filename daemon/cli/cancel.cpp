// `rc-watchdog cancel -c FILE JOB_ID...`: cancels the named jobs now, with
// the daemon's backoff, retry and audit trail. Uses a state of its own (the
// daemon's state.db is never written by this command); audit lines go to
// the same audit.jsonl.
#include <signal.h>

#include <cctype>
#include <cstdio>
#include <map>
#include <thread>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "config/loader.h"
#include "enforce/enforcer.h"
#include "service/api_stack.h"
#include "state/audit.h"
#include "state/state_store.h"

namespace rcw {
namespace {

constexpr const char* kUsage =
    "usage: rc-watchdog cancel -c FILE JOB_ID...\n"
    "Cancels the named jobs now (DELETE /reality-conversion/jobs/{id}) with the\n"
    "daemon's backoff, retry and audit trail. Exit 0 when every job was cancelled\n"
    "or had already finished, 1 otherwise.\n";

class Outcomes final : public EnforceObserver {
 public:
  void OnViolation(const std::string&, std::string_view) override {}
  void OnWarning(const std::string&) override {}
  void OnCancellationFinished(const std::string&, std::string_view outcome) override {
    ++counts[std::string(outcome)];
  }
  void OnConfirmed(const std::string&) override {}
  void OnBlocked(std::string_view, std::size_t) override {}
  std::map<std::string, int> counts;
};

}  // namespace

int RunCancel(const std::vector<std::string>& argv) {
  Args args = ParseArgs(argv, {"--config"}, {});
  if (args.Has("--help")) return std::fputs(kUsage, stdout), kExitOk;
  if (!args.error.empty() || args.positional.empty()) {
    std::fprintf(stderr, "rc-watchdog cancel: %s\n%s",
                 args.error.empty() ? "no job id given" : args.error.c_str(), kUsage);
    return kExitUsage;
  }
  LoadResult loaded = LoadConfigFile(args.Value("--config").value_or(kDefaultConfigPath));
  if (!loaded.ok()) return PrintConfigErrors(loaded.errors), kExitConfig;
  const Config& config = *loaded.config;
  StateStore store(config.state_directory);
  if (Status s = store.Prepare(); !s.ok()) {
    return std::fprintf(stderr, "rc-watchdog cancel: %s\n", s.ToString().c_str()), kExitFailure;
  }
  auto audit = FileAuditLog::Open(store.AuditPath());
  if (!audit.ok()) {
    return std::fprintf(stderr, "rc-watchdog cancel: %s\n", audit.status().ToString().c_str()), kExitFailure;
  }
  SystemClock clock;
  ApiStack api(config, clock, nullptr);
  PersistentState state;
  Outcomes outcomes;
  Enforcer enforcer(api.client(), **audit, state, &outcomes, std::random_device{}());
  enforcer.SetConfig(&config, false);
  // Job ids are GUIDs, case-insensitive; the API and the decoder spell them in
  // lower case, and so does every comparison after this.
  std::vector<std::string> ids = args.positional;
  for (std::string& id : ids) {
    for (char& c : id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  (void)enforcer.AddManual(ids, clock.Now());
  while (auto due = enforcer.NextDue(clock.Now())) {
    std::this_thread::sleep_until(*due);
    if (Status s = enforcer.RunDue(clock.Now()); !s.ok()) {
      std::fprintf(stderr, "rc-watchdog cancel: %s\n", s.ToString().c_str());
      return kExitFailure;
    }
  }
  bool all_ok = true;
  for (const auto& [outcome, n] : outcomes.counts) {
    std::printf("%s: %d\n", outcome.c_str(), n);
    all_ok = all_ok && (outcome == "cancelled" || outcome == "already_finished");
  }
  std::printf("audit log: %s\n", store.AuditPath().c_str());
  return all_ok ? kExitOk : kExitFailure;
}

}  // namespace rcw
