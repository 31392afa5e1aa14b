// SimProcess: runs the API simulator (tests/sim/rc_sim.py) as a child process
// for integration tests, over HTTP or HTTPS, and talks to its control API.
//
// Header-only (test helpers are not globbed into a library). Needs RCW_PYTHON,
// RCW_SOURCE_DIR and RCW_BINARY_DIR (set for every test binary) and linking
// rcw_api (CurlHttpClient). The child dies with the test process
// (PR_SET_PDEATHSIG) and is stopped by the destructor.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "api/curl_http_client.h"
#include "fakes/temp_dir.h"

namespace rcw::testing {

// Runs argv[0] with `argv` (stdout and stderr to `log`, or inherited when
// empty); returns the exit status, -1 when it could not run.
inline int RunProgram(const std::vector<std::string>& argv, const std::string& log = {}) {
  // Everything the child needs is prepared before fork(): only
  // async-signal-safe calls between fork() and exec().
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (!log.empty()) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        ::close(fd);
      }
    }
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The test CA of tests/sim/make_test_ca.sh, made once per build tree:
// ca.pem (signed the server certificate for 127.0.0.1), server.pem,
// server-key.pem and other-ca.pem (unrelated). Empty when it failed.
inline std::string TestCaDir() {
  static const std::string dir = [] {
    std::string d = std::string(RCW_BINARY_DIR) + "/test-ca";
    int rc = RunProgram({"/bin/sh", std::string(RCW_SOURCE_DIR) + "/tests/sim/make_test_ca.sh", d});
    return rc == 0 ? d : std::string();
  }();
  return dir;
}

struct SimOptions {
  bool tls = false;                     // serve HTTPS with the test CA's certificate
  std::vector<std::string> extra_args;  // e.g. {"--token-lifetime", "600"}
  std::chrono::seconds start_timeout{20};
};

class SimProcess {
 public:
  using Options = SimOptions;

  explicit SimProcess(Options options = {}) : options_(std::move(options)) { Start(); }
  ~SimProcess() { Stop(); }
  SimProcess(const SimProcess&) = delete;
  SimProcess& operator=(const SimProcess&) = delete;

  // Empty when the simulator runs; otherwise why not (with its log's tail).
  const std::string& error() const { return error_; }
  bool ok() const { return error_.empty(); }

  int port() const { return port_; }
  std::string origin() const {
    return std::string(options_.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
  }
  std::string base_url() const { return origin() + "/reality-conversion"; }
  std::string token_url() const { return origin() + "/connect/token"; }
  // TLS material (empty strings without TLS or when making it failed).
  std::string ca_file() const { return ca_dir_.empty() ? "" : ca_dir_ + "/ca.pem"; }
  std::string other_ca_file() const { return ca_dir_.empty() ? "" : ca_dir_ + "/other-ca.pem"; }
  std::string log() const { return ReadAll(dir_.File("sim.log")); }

  // A control-API request (no auth, JSON), e.g. Control("POST", "/_sim/clock",
  // R"({"advance":60})").
  Result<HttpResponse> Control(std::string_view method, std::string_view path,
                               std::string_view json_body = {}) {
    HttpRequest request;
    request.method = std::string(method);
    request.url = origin() + std::string(path);
    request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    request.body = std::string(json_body);
    return control_->Send(request);
  }

  // Stops the simulator (idempotent): SIGTERM, then SIGKILL after 5 s.
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
  }

 private:
  static std::string ReadAll(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }

  std::vector<std::string> Argv() {
    std::vector<std::string> argv = {
        RCW_PYTHON,    std::string(RCW_SOURCE_DIR) + "/tests/sim/rc_sim.py",
        "--port",      "0",
        "--port-file", dir_.File("port")};
    if (options_.tls) {
      argv.insert(argv.end(), {"--tls-cert", ca_dir_ + "/server.pem", "--tls-key",
                               ca_dir_ + "/server-key.pem"});
    }
    argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
    return argv;
  }

  void Spawn(const std::vector<std::string>& argv) {
    std::string log = dir_.File("sim.log");
    std::vector<char*> args;  // prepared before fork(), see RunProgram
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ != 0) return;
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test
    if (::getppid() != parent) ::_exit(1);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
    ::execv(args[0], args.data());
    ::_exit(127);
  }

  // Waits for the port file (the simulator writes it once it listens).
  bool AwaitPort() {
    auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(dir_.File("port"));
      if (in >> port_ && port_ > 0) return true;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        error_ = "the simulator exited at start-up";
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    error_ = "the simulator did not write its port file in time";
    return false;
  }

  void Start() {
    if (options_.tls) {
      ca_dir_ = TestCaDir();
      if (ca_dir_.empty()) {
        error_ = "tests/sim/make_test_ca.sh failed";
        return;
      }
    }
    CurlOptions control;
    control.timeout = std::chrono::seconds(30);
    if (options_.tls) control.ca_file = ca_file();
    control_ = std::make_unique<CurlHttpClient>(control);
    Spawn(Argv());
    if (pid_ < 0) {
      error_ = "fork failed";
      return;
    }
    if (!AwaitPort()) error_ += "; log: " + log().substr(0, 2000);
  }

  Options options_;
  TempDir dir_;
  std::string ca_dir_;
  std::unique_ptr<CurlHttpClient> control_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string error_;
};

}  // namespace rcw::testing
