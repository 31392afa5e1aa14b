#include "telemetry/log_sink.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "telemetry/exposition.h"

namespace rcw {
namespace {

// 2026-11-29T10:00:00.123Z
const TimePoint kNow = TimePoint(std::chrono::seconds(1795946400)) + std::chrono::milliseconds(123);

// Redirects fd 2 into a temporary file while alive.
class StderrCapture {
 public:
  StderrCapture() : file_(std::tmpfile()), saved_(dup(STDERR_FILENO)) {
    std::fflush(stderr);
    dup2(fileno(file_), STDERR_FILENO);
  }
  ~StderrCapture() { Restore(); }
  std::string Finish() {
    Restore();
    std::string out;
    std::rewind(file_);
    char buf[4096];
    while (size_t n = std::fread(buf, 1, sizeof buf, file_)) out.append(buf, n);
    return out;
  }

 private:
  void Restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    dup2(saved_, STDERR_FILENO);
    close(saved_);
    saved_ = -1;
  }
  FILE* file_;
  int saved_;
};

// Installs a sink and a level for one test, restoring the defaults after.
class ScopedSink {
 public:
  ScopedSink(LogSink* sink, LogLevel level) {
    SetLogSink(sink);
    SetLogLevel(level);
  }
  ~ScopedSink() {
    SetLogSink(nullptr);
    SetLogLevel(LogLevel::kInfo);
  }
};

TEST_CASE("text lines carry a UTC millisecond timestamp and the level") {
  CHECK(FormatLogLine(LogFormat::kText, false, LogLevel::kInfo, "poll ok", kNow) ==
        "2026-11-29T10:00:00.123Z info poll ok");
  CHECK(FormatLogLine(LogFormat::kText, false, LogLevel::kWarn, "slow", kNow) ==
        "2026-11-29T10:00:00.123Z warn slow");
}

TEST_CASE("journald prefixes replace the timestamp with the priority") {
  CHECK(FormatLogLine(LogFormat::kText, true, LogLevel::kError, "x", kNow) == "<3>x");
  CHECK(FormatLogLine(LogFormat::kText, true, LogLevel::kWarn, "x", kNow) == "<4>x");
  CHECK(FormatLogLine(LogFormat::kText, true, LogLevel::kInfo, "x", kNow) == "<6>x");
  CHECK(FormatLogLine(LogFormat::kText, true, LogLevel::kDebug, "x", kNow) == "<7>x");
  CHECK(FormatLogLine(LogFormat::kText, true, LogLevel::kTrace, "x", kNow) == "<7>x");
  CHECK(FormatLogLine(LogFormat::kJson, true, LogLevel::kWarn, "x", kNow) ==
        "<4>{\"ts\":\"2026-11-29T10:00:00.123Z\",\"level\":\"warn\",\"msg\":\"x\"}");
}

TEST_CASE("JSON lines are one object with ts and level and msg") {
  CHECK(FormatLogLine(LogFormat::kJson, false, LogLevel::kDebug, "hello \"world\"", kNow) ==
        "{\"ts\":\"2026-11-29T10:00:00.123Z\",\"level\":\"debug\",\"msg\":\"hello "
        "\\\"world\\\"\"}");
}

TEST_CASE("control characters and newlines never split a line") {
  std::string evil = "a\nb\r\x1b[31mc\td\x7f";
  std::string text = FormatLogLine(LogFormat::kText, false, LogLevel::kError, evil, kNow);
  CHECK(text == "2026-11-29T10:00:00.123Z error a\\nb\\r\\x1b[31mc\td\\x7f");
  std::string json = FormatLogLine(LogFormat::kJson, false, LogLevel::kError, evil, kNow);
  CHECK(json.find_first_of("\n\r\x1b\x7f") == std::string::npos);
  CHECK(json.find("\"msg\":\"a\\nb\\r\\u001b[31mc\\td\\u007f\"}") != std::string::npos);
  CHECK(FormatLogLine(LogFormat::kText, false, LogLevel::kInfo, "größe ✓", kNow) ==
        "2026-11-29T10:00:00.123Z info größe ✓");
}

TEST_CASE("ParseLogFormat knows text and json") {
  LogFormat f = LogFormat::kText;
  CHECK(ParseLogFormat("json", f));
  CHECK(f == LogFormat::kJson);
  CHECK(ParseLogFormat("text", f));
  CHECK(f == LogFormat::kText);
  CHECK_FALSE(ParseLogFormat("JSON", f));
  CHECK_FALSE(ParseLogFormat("", f));
}

TEST_CASE("the spdlog sink writes one JSON line per message to stderr filtered by level") {
  auto sink = MakeLogSink(LogFormat::kJson, false);
  StderrCapture capture;
  {
    ScopedSink scoped(sink.get(), LogLevel::kInfo);
    LogDebug("dropped");
    LogInfo("first\nsecond");
    LogError("boom");
  }
  std::vector<std::string> lines = testing::Lines(capture.Finish());
  REQUIRE(lines.size() == 2);
  for (const std::string& line : lines) {
    INFO(line);
    CHECK(line.rfind("{\"ts\":\"", 0) == 0);
    CHECK(line.back() == '}');
    CHECK(line.find("Z\",\"level\":\"") != std::string::npos);
  }
  CHECK(lines[0].find("\"level\":\"info\",\"msg\":\"first\\nsecond\"}") != std::string::npos);
  CHECK(lines[1].find("\"level\":\"error\",\"msg\":\"boom\"}") != std::string::npos);
}

TEST_CASE("the spdlog sink honours a lower level and journald prefixes") {
  auto sink = MakeLogSink(LogFormat::kText, true);
  StderrCapture capture;
  {
    ScopedSink scoped(sink.get(), LogLevel::kTrace);
    Log(LogLevel::kTrace, "t");
    LogDebug("d");
    LogInfo("i");
    LogWarn("w");
    LogError("e");
  }
  CHECK(capture.Finish() == "<7>t\n<7>d\n<6>i\n<4>w\n<3>e\n");
}

TEST_CASE("the text sink at warn drops info and below") {
  auto sink = MakeLogSink(LogFormat::kText, false);
  StderrCapture capture;
  {
    ScopedSink scoped(sink.get(), LogLevel::kWarn);
    LogInfo("quiet");
    LogWarn("loud");
  }
  std::vector<std::string> lines = testing::Lines(capture.Finish());
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].size() == std::string("2026-11-29T10:00:00.123Z warn loud").size());
  CHECK(lines[0].substr(24) == " warn loud");
  CHECK(lines[0][10] == 'T');
  CHECK(lines[0][23] == 'Z');
}

// Sets or unsets $JOURNAL_STREAM for one test.
class ScopedJournalStream {
 public:
  explicit ScopedJournalStream(const char* value) {
    const char* old = std::getenv("JOURNAL_STREAM");
    had_ = old != nullptr;
    if (had_) old_ = old;
    if (value) {
      setenv("JOURNAL_STREAM", value, 1);
    } else {
      unsetenv("JOURNAL_STREAM");
    }
  }
  ~ScopedJournalStream() {
    if (had_) {
      setenv("JOURNAL_STREAM", old_.c_str(), 1);
    } else {
      unsetenv("JOURNAL_STREAM");
    }
  }

 private:
  bool had_ = false;
  std::string old_;
};

TEST_CASE("StderrIsJournal compares $JOURNAL_STREAM with stderr's device and inode") {
  struct stat st {};
  REQUIRE(fstat(STDERR_FILENO, &st) == 0);
  std::string same = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  {
    ScopedJournalStream env(same.c_str());
    CHECK(StderrIsJournal());
  }
  std::string other = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1);
  std::string trailing = same + "x";
  for (const char* value :
       {static_cast<const char*>(nullptr), other.c_str(), "", "garbage", trailing.c_str()}) {
    ScopedJournalStream env(value);
    INFO((value ? value : "(unset)"));
    CHECK_FALSE(StderrIsJournal());
  }
}

}  // namespace
}  // namespace rcw
