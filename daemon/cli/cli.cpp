#include "cli/cli.h"

#include <cstdio>
#include <string>
#include <string_view>

#include "base/version.h"

namespace rcw {
namespace {

int Version() {
  std::printf("rc-watchdog %s (revision %s)\n", kVersion, kGitRevision);
  std::printf("yaml-cpp %s, simdjson %s, spdlog %s, prometheus-cpp %s, date %s, libsystemd %s\n",
              kYamlCppVersion, kSimdjsonVersion, kSpdlogVersion, kPrometheusCppVersion,
              kDateVersion, kLibsystemdVersion);
  return kExitOk;
}

}  // namespace

int RunCli(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: rc-watchdog COMMAND [options]; see rc-watchdog --help\n");
    return kExitUsage;
  }
  std::string_view cmd = argv[1];
  if (cmd == "version" || cmd == "--version") return Version();
  std::fprintf(stderr, "rc-watchdog: unknown command '%s'\n", argv[1]);
  return kExitUsage;
}

}  // namespace rcw
