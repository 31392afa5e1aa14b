#include "state/legacy_state.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "base/json_writer.h"
#include "base/timefmt.h"
#include "json/state_decode.h"

namespace rcw {
namespace {

Status Errno(const std::string& what, const std::string& path) {
  return Status(StatusCode::kUnavailable, what + " " + path + ": " + std::strerror(errno));
}

void WriteStrings(JsonWriter& w, const char* key, const std::set<std::string>& set) {
  w.Key(key).BeginArray();
  for (const auto& s : set) w.String(s);
  w.EndArray();
}

// Markers as objects; states of 0.1.0 wrote "job|owner|what" strings, which
// the decoder still reads.
void WriteMarkers(JsonWriter& w, const char* key, const MarkerSet& set) {
  w.Key(key).BeginArray();
  for (const JobMarker& m : set) {
    w.BeginObject().Key("job_id").String(m.job_id).Key("owner").String(m.owner);
    w.Key("what").String(m.what).Key("itwin_id").String(m.itwin_id).EndObject();
  }
  w.EndArray();
}

void WritePending(JsonWriter& w, const PendingCancel& p) {
  w.BeginObject()
      .Key("job_id").String(p.job_id).Key("policy").String(p.policy)
      .Key("limit").String(p.limit).Key("itwin_id").String(p.itwin_id)
      .Key("type").String(p.type).Key("name").String(p.name)
      .Key("user_id").String(p.user_id).Key("observed").Number(p.observed)
      .Key("threshold").Number(p.threshold).Key("attempts").Int(p.attempts)
      .Key("next_attempt").String(FormatTimestampMs(p.next_attempt))
      .Key("requested_at").String(FormatTimestampMs(p.requested_at))
      .Key("accepted").Bool(p.accepted)
      .Key("polls_since_accept").Int(p.polls_since_accept)
      .EndObject();
}

void WriteLedgerEntry(JsonWriter& w, const LedgerEntry& e) {
  w.BeginObject()
      .Key("job_id").String(e.job_id).Key("ended").String(FormatTimestampMs(e.ended))
      .Key("pu").Number(e.processing_units).Key("itwin_id").String(e.itwin_id)
      .Key("user_id").String(e.user_id).Key("type").String(ToString(e.type))
      .Key("name").String(e.name)
      .EndObject();
}

// What a sink is handed at a time, about.
constexpr std::size_t kChunk = 64 * 1024;

// Hands the writer's output to `sink` once it holds `at_least` bytes (and at
// the end), so a state with a month's ledger is never one 20 MB string.
class Drain {
 public:
  Drain(JsonWriter& w, const StateSink& sink, std::size_t at_least)
      : w_(w), sink_(sink), at_least_(at_least) {}
  Status Maybe() {
    if (!status_.ok() || w_.str().size() < at_least_) return status_;
    return Now();
  }
  Status Now() {
    if (status_.ok() && !w_.str().empty()) status_ = sink_(w_.str());
    w_.ClearOutput();
    return status_;
  }

 private:
  JsonWriter& w_;
  const StateSink& sink_;
  std::size_t at_least_;
  Status status_ = Status::Ok();
};

}  // namespace

Status EncodeState(const PersistentState& s, const LedgerEntries& ledger,
                   const StateSink& sink) {
  JsonWriter w;
  Drain drain(w, sink, kChunk);
  w.BeginObject().Key("version").Int(s.version);
  w.Key("first_seen_active").BeginObject();
  for (const auto& [id, t] : s.first_seen_active) w.Key(id).String(FormatTimestampMs(t));
  w.EndObject();
  WriteMarkers(w, "warned", s.warned);
  WriteMarkers(w, "violated", s.violated);
  WriteStrings(w, "budget_warned", s.budget_warned);
  WriteStrings(w, "budget_exceeded", s.budget_exceeded);
  WriteStrings(w, "followed", s.followed);
  w.Key("pending").BeginArray();
  for (const PendingCancel& p : s.pending) WritePending(w, p);
  w.EndArray();
  w.Key("cancel_times").BeginArray();
  for (TimePoint t : s.cancel_times) w.String(FormatTimestampMs(t));
  w.EndArray();
  if (s.ledger_pruned_before) {
    w.Key("ledger_pruned_before").String(FormatTimestampMs(*s.ledger_pruned_before));
  }
  if (Status st = drain.Maybe(); !st.ok()) return st;
  w.Key("ledger").BeginArray();
  for (const LedgerEntry& e : ledger) {
    WriteLedgerEntry(w, e);
    if (Status st = drain.Maybe(); !st.ok()) return st;
  }
  w.EndArray();
  w.Key("rates").BeginArray();
  for (const LearnedRate& r : s.rates) {
    w.BeginObject().Key("type").String(ToString(r.type)).Key("pu_per_hour").Number(r.pu_per_hour)
        .Key("samples").Int(r.samples).EndObject();
  }
  w.EndArray().EndObject();
  return drain.Now();
}

Status EncodeLedger(const LedgerEntries& ledger, const StateSink& sink) {
  JsonWriter w;
  std::string out;
  for (const LedgerEntry& e : ledger) {
    w.ClearOutput();
    WriteLedgerEntry(w, e);
    out.append(w.str()).push_back('\n');
    if (out.size() < kChunk) continue;
    if (Status st = sink(out); !st.ok()) return st;
    out.clear();
  }
  return out.empty() ? Status::Ok() : sink(out);
}

std::string EncodeState(const PersistentState& s) {
  std::string out;
  (void)EncodeState(s, s.ledger, [&](std::string_view chunk) {
    out.append(chunk);
    return Status::Ok();
  });
  return out;
}

namespace {

// Appends the lines of ledger.jsonl at `path` to `out`; a missing file adds none.
Status LoadLedgerLines(const std::string& path, LedgerEntries& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? Status::Ok() : Errno("cannot read", path);
  // Line by line through a 1 MB window: a month's ledger (20 MB and more)
  // is never in memory as text, only as entries.
  constexpr std::size_t kBlock = 1 << 20;
  std::string buf;
  std::size_t line_no = 0;
  Status status = Status::Ok();
  auto take_lines = [&](bool at_end) {
    std::size_t start = 0;
    while (status.ok()) {
      std::size_t nl = buf.find('\n', start);
      if (nl == std::string::npos && !(at_end && start < buf.size())) break;
      std::size_t end = nl == std::string::npos ? buf.size() : nl;
      std::string_view line(buf.data() + start, end - start);
      ++line_no;
      if (!line.empty()) {
        Result<LedgerEntry> e = DecodeLedgerLine(line);
        if (e.ok()) {
          out.push_back(std::move(*e));
        } else {
          status = Status(StatusCode::kBadResponse, path + " line " + std::to_string(line_no) +
                                                        ": " + e.status().message());
        }
      }
      start = end + 1;
    }
    buf.erase(0, std::min(start, buf.size()));
  };
  char block[64 * 1024];
  while (status.ok()) {
    ssize_t n = ::read(fd, block, sizeof block);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = Errno("cannot read", path);
      break;
    }
    if (n == 0) {
      take_lines(true);
      break;
    }
    buf.append(block, static_cast<std::size_t>(n));
    if (buf.size() >= kBlock) take_lines(false);
  }
  ::close(fd);
  return status;
}

}  // namespace

Result<PersistentState> LoadLegacyState(const std::string& state_path,
                                        const std::string& ledger_path) {
  PersistentState state;
  if (::access(state_path.c_str(), F_OK) == 0 || errno != ENOENT) {
    std::ifstream in(state_path, std::ios::binary);
    if (!in) return Errno("cannot read", state_path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Result<PersistentState> decoded = DecodeState(text);
    if (!decoded.ok()) {
      return Status(StatusCode::kBadResponse, state_path + ": " + decoded.status().message());
    }
    state = std::move(*decoded);
  }
  if (Status s = LoadLedgerLines(ledger_path, state.ledger); !s.ok()) return s;
  return state;
}

}  // namespace rcw
