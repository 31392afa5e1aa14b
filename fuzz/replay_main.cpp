// main() of the replay build of a fuzz target (compilers without libFuzzer):
// runs LLVMFuzzerTestOneInput once on every file in the directories (or files)
// given, in name order. Exit 0 when all ran; 1 when an argument is missing, is
// not readable or a directory holds no input (a silently passing test would
// replay nothing). An input that breaks a property or crashes kills the
// process by signal; the handler names the input first.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
// Present when a sanitizer runtime is linked (RCW_SANITIZE=ON): called before
// a sanitizer report ends the process.
extern "C" void __sanitizer_set_death_callback(void (*callback)()) __attribute__((weak));

namespace {

namespace fs = std::filesystem;

char g_current[4096];  // the input being run, for the signal handler

void NameCurrentInput() {
  const char prefix[] = "replay: crashed on input ";
  (void)!write(2, prefix, sizeof prefix - 1);
  (void)!write(2, g_current, std::strlen(g_current));
  (void)!write(2, "\n", 1);
}

void OnFatalSignal(int sig) {
  NameCurrentInput();
  signal(sig, SIG_DFL);
  raise(sig);
}

// Names the input on a crash; keeps a sanitizer's own handlers (and reports).
void InstallCrashHandlers() {
  if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(NameCurrentInput);
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) {
    struct sigaction old = {};
    if (sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) {
      signal(sig, OnFatalSignal);
    }
  }
}

bool RunFile(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "replay: cannot read %s\n", file.c_str());
    return false;
  }
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::snprintf(g_current, sizeof g_current, "%s", file.c_str());
  // A copy of exactly the input's size, so ASan sees reads past its end.
  std::vector<uint8_t> data(bytes.begin(), bytes.end());
  LLVMFuzzerTestOneInput(data.data(), data.size());
  return true;
}

// Appends the regular files of `arg` (a file or a directory) to `files`.
bool Collect(const fs::path& arg, std::vector<fs::path>& files) {
  std::error_code ec;
  if (fs::is_regular_file(arg, ec)) {
    files.push_back(arg);
    return true;
  }
  if (!fs::is_directory(arg, ec)) {
    std::fprintf(stderr, "replay: %s: no such file or directory\n", arg.c_str());
    return false;
  }
  size_t before = files.size();
  for (const fs::directory_entry& e : fs::directory_iterator(arg, ec)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  if (ec || files.size() == before) {
    std::fprintf(stderr, "replay: %s: %s\n", arg.c_str(),
                 ec ? ec.message().c_str() : "holds no input (an empty corpus tests nothing)");
    return false;
  }
  std::sort(files.begin() + static_cast<std::ptrdiff_t>(before), files.end());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR_OR_FILE...\n", argv[0]);
    return 1;
  }
  InstallCrashHandlers();
  std::vector<fs::path> files;
  bool ok = true;
  for (int i = 1; i < argc; ++i) ok = Collect(argv[i], files) && ok;
  for (const fs::path& f : files) ok = RunFile(f) && ok;
  std::printf("replay: %zu inputs ran%s\n", files.size(), ok ? "" : " (with errors above)");
  return ok ? 0 : 1;
}
