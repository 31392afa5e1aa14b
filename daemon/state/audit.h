// The audit trail (docs/audit-log.md): one JSON object per line in
// <state.directory>/audit.jsonl, on disk (fdatasync) before the daemon acts on
// its next decision. A cancellation whose audit line could not be written is
// not sent.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"

namespace rcw {

struct AuditEvent {
  TimePoint ts{};
  std::string event;  // warning, violation, cancel_requested, cancel_result, ...
  std::string job_id, itwin_id, type, name, user_id;
  std::string policy, limit;
  std::optional<double> observed, threshold;
  std::optional<int> attempt;
  std::optional<long> http_status;
  std::string outcome;
  std::string message;
  std::optional<bool> dry_run;  // set on lines that a real run would act on
  std::optional<bool> exempt;   // set on warnings and violations of an exempt job

  // The JSON line, without the newline. Empty fields are left out.
  std::string ToJson() const;
};

class AuditSink {
 public:
  virtual ~AuditSink() = default;
  // Appends the events, in order, and makes them durable before returning.
  // An error means none or only some were written: the caller must not act.
  virtual Status Append(const std::vector<AuditEvent>& events) = 0;
  Status Append(const AuditEvent& event) { return Append(std::vector<AuditEvent>{event}); }
};

// Appends to a file opened with O_APPEND; each batch is one write() followed
// by fdatasync(). Reopens the file on every batch when it was rotated away.
// A batch that fails (write or fdatasync) is cut off again (ftruncate to the
// size before it), so the file holds only whole lines and the next batch
// starts on a line boundary; Append then returns kUnavailable.
class FileAuditLog final : public AuditSink {
 public:
  static Result<std::unique_ptr<FileAuditLog>> Open(const std::string& path);
  ~FileAuditLog() override;
  using AuditSink::Append;
  Status Append(const std::vector<AuditEvent>& events) override;
  const std::string& path() const { return path_; }

 private:
  explicit FileAuditLog(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  Status ReopenIfRotated();
  Status WriteAll(const std::string& batch);  // write() until done, then fdatasync()
  std::string path_;
  int fd_;
};

}  // namespace rcw
