#include "state/audit.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/timefmt.h"
#include "fakes/temp_dir.h"

using namespace rcw;

namespace {

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string Contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

AuditEvent Event(const std::string& name, const std::string& message) {
  AuditEvent e;
  e.event = name;
  e.job_id = "5e315451-564e-4e8b-a952-45b14e6a9c90";
  e.message = message;
  return e;
}

// In a child process whose file size limit is `limit_bytes` (SIGXFSZ
// ignored, so write() is short and then fails with EFBIG), appends `events`
// to the log at `path`. Returns the child's exit status: 0 when Append
// succeeded, 1 when it failed, anything else when the child went wrong.
int AppendUnderFileSizeLimit(const std::string& path, rlim_t limit_bytes,
                             const std::vector<AuditEvent>& events) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl {};
    if (::getrlimit(RLIMIT_FSIZE, &rl) != 0) ::_exit(2);
    rl.rlim_cur = limit_bytes;
    if (::setrlimit(RLIMIT_FSIZE, &rl) != 0) ::_exit(3);
    auto log = FileAuditLog::Open(path);
    if (!log.ok()) ::_exit(4);
    ::_exit((*log)->Append(events).ok() ? 0 : 1);
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

}  // namespace

TEST_CASE("audit events are JSON lines with only the fields that apply") {
  AuditEvent e;
  e.ts = *ParseTimestamp("2026-11-29T10:00:00.5Z");
  e.event = "cancel_result";
  e.job_id = "5e315451-564e-4e8b-a952-45b14e6a9c90";
  e.policy = "pc-2h";
  e.limit = "max_runtime";
  e.observed = 7300;
  e.threshold = 7200;
  e.attempt = 1;
  e.http_status = 200;
  e.outcome = "cancelled";
  CHECK(e.ToJson() ==
        R"({"ts":"2026-11-29T10:00:00.500Z","event":"cancel_result",)"
        R"("job_id":"5e315451-564e-4e8b-a952-45b14e6a9c90","policy":"pc-2h","limit":"max_runtime",)"
        R"("observed":7300,"threshold":7200,"attempt":1,"http_status":200,"outcome":"cancelled"})");
}

TEST_CASE("a hostile job name cannot break a line of the audit log") {
  testing::TempDir dir;
  auto log = FileAuditLog::Open(dir.File("audit.jsonl"));
  REQUIRE(log.ok());
  AuditEvent e;
  e.event = "violation";
  e.name = "evil\n{\"event\":\"forged\"}\r\x01";
  REQUIRE((*log)->Append(e).ok());
  auto lines = Lines(dir.File("audit.jsonl"));
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("\\n{\\\"event\\\":\\\"forged\\\"}") != std::string::npos);
}

TEST_CASE("batches append in order and survive a reopen") {
  testing::TempDir dir;
  std::string path = dir.File("audit.jsonl");
  {
    auto log = FileAuditLog::Open(path);
    REQUIRE(log.ok());
    AuditEvent a, b;
    a.event = "started";
    b.event = "violation";
    REQUIRE((*log)->Append({a, b}).ok());
  }
  auto log = FileAuditLog::Open(path);
  AuditEvent c;
  c.event = "stopped";
  REQUIRE((*log)->Append(c).ok());
  auto lines = Lines(path);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].find("\"started\"") != std::string::npos);
  CHECK(lines[2].find("\"stopped\"") != std::string::npos);
}

TEST_CASE("a rotated audit log is reopened at its path") {
  testing::TempDir dir;
  std::string path = dir.File("audit.jsonl");
  auto log = FileAuditLog::Open(path);
  REQUIRE(log.ok());
  AuditEvent e;
  e.event = "started";
  REQUIRE((*log)->Append(e).ok());
  std::filesystem::rename(path, path + ".1");
  e.event = "stopped";
  REQUIRE((*log)->Append(e).ok());
  CHECK(Lines(path).size() == 1);
  CHECK(Lines(path + ".1").size() == 1);
}

TEST_CASE("an audit log that cannot be opened is an error") {
  CHECK_FALSE(FileAuditLog::Open("/proc/no/such/dir/audit.jsonl").ok());
}

TEST_CASE("a batch cut short by a full disk leaves only whole lines behind") {
  testing::TempDir dir;
  std::string path = dir.File("audit.jsonl");
  AuditEvent first = Event("started", "");
  {
    auto log = FileAuditLog::Open(path);
    REQUIRE(log.ok());
    REQUIRE((*log)->Append(first).ok());
  }
  const std::string before = Contents(path);
  // Room for part of the batch's first line only: write() is short, then EFBIG.
  std::vector<AuditEvent> batch = {Event("cancel_requested", std::string(200, 'x')),
                                   Event("violation", std::string(200, 'y'))};
  REQUIRE(AppendUnderFileSizeLimit(path, before.size() + 40, batch) == 1);
  CHECK(Contents(path) == before);

  // The next batch (limit lifted) starts on a line boundary.
  auto log = FileAuditLog::Open(path);
  REQUIRE(log.ok());
  AuditEvent later = Event("cancel_requested", "after the failure");
  REQUIRE((*log)->Append(later).ok());
  std::vector<std::string> want = {first.ToJson(), later.ToJson()};
  CHECK(Lines(path) == want);
  CHECK(Contents(path).back() == '\n');
}
