// The command line (rc-watchdog(8), docs/man/rc-watchdog.8.scd): run,
// check-config, plan, cancel, version.
#pragma once

namespace rcw {

// Exit codes: 0 success, 1 runtime failure, 2 bad command line, 78 config error.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitConfig = 78;

inline constexpr const char* kDefaultConfigPath = "/etc/rc-watchdog/config.yaml";

int RunCli(int argc, char** argv);

}  // namespace rcw
