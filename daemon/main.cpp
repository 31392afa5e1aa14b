// rc-watchdog: keeps Reality Conversion jobs within budget. Wiring only; the
// subcommands live in cli/.
#include "cli/cli.h"

int main(int argc, char** argv) { return rcw::RunCli(argc, argv); }
