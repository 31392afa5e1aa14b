#include "state/audit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/json_writer.h"
#include "base/timefmt.h"

namespace rcw {
namespace {

void Field(JsonWriter& w, const char* key, const std::string& v) {
  if (!v.empty()) w.Key(key).String(v);
}

Status Errno(const std::string& what, const std::string& path) {
  return Status(StatusCode::kUnavailable, what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

std::string AuditEvent::ToJson() const {
  JsonWriter w;
  w.BeginObject().Key("ts").String(FormatTimestampMs(ts)).Key("event").String(event);
  Field(w, "job_id", job_id);
  Field(w, "itwin_id", itwin_id);
  Field(w, "type", type);
  Field(w, "name", name);
  Field(w, "user_id", user_id);
  Field(w, "policy", policy);
  Field(w, "limit", limit);
  if (observed) w.Key("observed").Number(*observed);
  if (threshold) w.Key("threshold").Number(*threshold);
  if (attempt) w.Key("attempt").Int(*attempt);
  if (http_status) w.Key("http_status").Int(*http_status);
  Field(w, "outcome", outcome);
  Field(w, "message", message);
  if (dry_run) w.Key("dry_run").Bool(*dry_run);
  if (exempt) w.Key("exempt").Bool(*exempt);
  w.EndObject();
  return w.Take();
}

Result<std::unique_ptr<FileAuditLog>> FileAuditLog::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return Errno("cannot open audit log", path);
  return std::unique_ptr<FileAuditLog>(new FileAuditLog(path, fd));
}

FileAuditLog::~FileAuditLog() {
  if (fd_ >= 0) ::close(fd_);
}

Status FileAuditLog::ReopenIfRotated() {
  struct stat open_st {}, path_st {};
  if (::fstat(fd_, &open_st) == 0 && ::stat(path_.c_str(), &path_st) == 0 &&
      open_st.st_ino == path_st.st_ino && open_st.st_dev == path_st.st_dev) {
    return Status::Ok();
  }
  int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return Errno("cannot reopen audit log", path_);
  ::close(fd_);
  fd_ = fd;
  return Status::Ok();
}

Status FileAuditLog::WriteAll(const std::string& batch) {
  size_t done = 0;
  while (done < batch.size()) {
    ssize_t n = ::write(fd_, batch.data() + done, batch.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Errno("cannot write audit log", path_);
    done += static_cast<size_t>(n);
  }
  if (::fdatasync(fd_) != 0) return Errno("cannot sync audit log", path_);
  return Status::Ok();
}

Status FileAuditLog::Append(const std::vector<AuditEvent>& events) {
  if (events.empty()) return Status::Ok();
  if (Status s = ReopenIfRotated(); !s.ok()) return s;
  std::string batch;
  for (const AuditEvent& e : events) {
    batch += e.ToJson();
    batch += '\n';
  }
  // A short write followed by an error (ENOSPC, EFBIG) would leave a line
  // without its newline, and the next batch would be glued to it: on any
  // failure, cut the file back to where this batch began. Best effort: if
  // even that fails, the error returned is still the write's.
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return Errno("cannot stat audit log", path_);
  Status s = WriteAll(batch);
  if (!s.ok() && ::ftruncate(fd_, st.st_size) == 0) (void)::fdatasync(fd_);
  return s;
}

}  // namespace rcw
