#include "state/audit.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

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
