#include "cli/args.h"

namespace rcw {

Args ParseArgs(const std::vector<std::string>& argv, const std::set<std::string>& with_value,
               const std::set<std::string>& switches) {
  Args a;
  for (size_t i = 0; i < argv.size(); ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      a.flags.insert("--help");
      continue;
    }
    if (arg == "-c") arg = "--config";
    if (arg.size() < 2 || arg[0] != '-') {
      a.positional.push_back(arg);
      continue;
    }
    std::string value;
    bool inline_value = false;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      inline_value = true;
    }
    if (switches.count(arg) && !inline_value) {
      a.flags.insert(arg);
    } else if (with_value.count(arg)) {
      if (!inline_value) {
        if (i + 1 >= argv.size()) {
          a.error = "option " + arg + " needs a value";
          return a;
        }
        value = argv[++i];
      }
      a.values[arg] = value;
    } else {
      a.error = "unknown option " + arg;
      return a;
    }
  }
  return a;
}

}  // namespace rcw
