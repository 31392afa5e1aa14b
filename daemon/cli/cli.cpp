#include "cli/cli.h"

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "api/curl_http_client.h"
#include "base/timefmt.h"
#include "base/version.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "config/loader.h"
#include "service/daemon.h"

namespace rcw {
namespace {

constexpr const char* kUsage =
    "usage: rc-watchdog COMMAND [options]\n"
    "Keeps Bentley iTwin Reality Conversion jobs within budget.\n\n"
    "commands:\n"
    "  run -c FILE [--dry-run] [--once [--max-wait 5m]]\n"
    "                                     the daemon\n"
    "  check-config -c FILE               validate the config, print a summary\n"
    "  plan -c FILE [--format table|json] [--jobs FILE] [--at TIME]\n"
    "                                     what would be done now (never cancels)\n"
    "  backtest -c FILE [--since 30d] [--until TIME] [--format table|json]\n"
    "           [--jobs FILE...] [--explain JOB_ID] [--with-safety-limits]\n"
    "                                     what the config would have done to past jobs\n"
    "  cancel -c FILE JOB_ID...           cancel the named jobs now\n"
    "  version                            version and library versions\n\n"
    "-c defaults to /etc/rc-watchdog/config.yaml. Exit status: 0 success,\n"
    "1 runtime failure, 2 bad command line, 75 run --once left work undone,\n"
    "78 configuration error.\n";

constexpr const char* kRunUsage =
    "usage: rc-watchdog run -c FILE [--dry-run] [--once [--max-wait 5m]]\n"
    "The daemon: polls the API, evaluates policies and budgets, cancels offending\n"
    "jobs. --dry-run makes every policy report-only. --once runs one cycle and\n"
    "finishes what it started: it re-polls when a retry would go out on stale data,\n"
    "until every cancellation has a final outcome or --max-wait (default 5m) passes;\n"
    "exit 0 when nothing is left, 75 when work is left or the listing was\n"
    "incomplete. SIGHUP reloads the config, SIGTERM/SIGINT stop it.\n";

constexpr const char* kCheckUsage =
    "usage: rc-watchdog check-config -c FILE\n"
    "Parses and validates the whole config (secrets readable, regexes, durations,\n"
    "unknown keys) and prints one line per policy and budget. Sends no request.\n";

int Version() {
  std::printf("rc-watchdog %s (revision %s)\n", kVersion, kGitRevision);
  std::printf("%s\n", LibcurlVersion().c_str());
  std::printf("yaml-cpp %s, simdjson %s, spdlog %s, prometheus-cpp %s, date %s, libsystemd %s\n",
              kYamlCppVersion, kSimdjsonVersion, kSpdlogVersion, kPrometheusCppVersion,
              kDateVersion, kLibsystemdVersion);
  return kExitOk;
}

int Usage(const char* command, const std::string& error, const char* usage) {
  std::fprintf(stderr, "rc-watchdog %s: %s\n%s", command, error.c_str(), usage);
  return kExitUsage;
}

int CheckConfig(const std::vector<std::string>& argv) {
  Args args = ParseArgs(argv, {"--config"}, {});
  if (args.Has("--help")) return std::fputs(kCheckUsage, stdout), kExitOk;
  if (!args.error.empty()) return Usage("check-config", args.error, kCheckUsage);
  if (!args.positional.empty()) return Usage("check-config", "unexpected argument", kCheckUsage);
  LoadResult r = LoadConfigFile(args.Value("--config").value_or(kDefaultConfigPath));
  if (!r.ok()) return PrintConfigErrors(r.errors), kExitConfig;
  for (const std::string& line : DescribeConfig(*r.config)) std::printf("%s\n", line.c_str());
  return kExitOk;
}

int Run(const std::vector<std::string>& argv) {
  Args args = ParseArgs(argv, {"--config", "--max-wait"}, {"--dry-run", "--once"});
  if (args.Has("--help")) return std::fputs(kRunUsage, stdout), kExitOk;
  if (!args.error.empty()) return Usage("run", args.error, kRunUsage);
  if (!args.positional.empty()) return Usage("run", "unexpected argument", kRunUsage);
  RunOptions options;
  options.config_path = args.Value("--config").value_or(kDefaultConfigPath);
  options.dry_run = args.Has("--dry-run");
  options.once = args.Has("--once");
  if (std::optional<std::string> wait = args.Value("--max-wait")) {
    if (!options.once) return Usage("run", "--max-wait goes with --once", kRunUsage);
    Result<Seconds> d = ParseDuration(*wait);
    if (!d.ok()) return Usage("run", "--max-wait: " + d.status().message(), kRunUsage);
    options.max_wait = *d;
  }
  return RunDaemon(options);
}

}  // namespace

void PrintConfigErrors(const std::vector<ConfigError>& errors) {
  for (const ConfigError& e : errors) std::fprintf(stderr, "%s\n", e.ToString().c_str());
}

int RunCli(int argc, char** argv) {
  if (argc < 2) return std::fputs(kUsage, stderr), kExitUsage;
  std::string_view cmd = argv[1];
  std::vector<std::string> rest(argv + 2, argv + argc);
  if (cmd == "--help" || cmd == "-h" || cmd == "help") return std::fputs(kUsage, stdout), kExitOk;
  if (cmd == "version" || cmd == "--version") {
    if (rest.size() == 1 && (rest[0] == "--help" || rest[0] == "-h")) {
      return std::fputs("usage: rc-watchdog version\n", stdout), kExitOk;
    }
    if (!rest.empty()) return Usage("version", "unexpected argument " + rest[0], "usage: rc-watchdog version\n");
    return Version();
  }
  if (cmd == "run") return Run(rest);
  if (cmd == "check-config") return CheckConfig(rest);
  if (cmd == "plan") return RunPlan(rest);
  if (cmd == "cancel") return RunCancel(rest);
  if (cmd == "backtest") return RunBacktest(rest);
  std::fprintf(stderr, "rc-watchdog: unknown command '%s'\n%s", argv[1], kUsage);
  return kExitUsage;
}

}  // namespace rcw
