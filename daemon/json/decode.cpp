// The one translation unit that uses simdjson: API bodies and state.json.
//
// Why the DOM API and not On-Demand: the DOM parser validates the whole body
// (grammar, UTF-8, a single root, nesting depth) before we look at it, while
// On-Demand skips unread values (`specifications`) without checking them and
// enforces no depth limit. A watchdog that cancels paid work must not act on a
// body that is not JSON. The DOM tape walk that follows is cheap; the
// parser's buffers are reused across calls, so a steady poll loop allocates
// only the Job strings.
#include "json/decode.h"
#include "json/state_decode.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "base/timefmt.h"
#include "json/fast_timestamp.h"
#include "json/field_path.h"

static_assert(rcw::kJsonPadding == simdjson::SIMDJSON_PADDING);

namespace rcw {
namespace {

namespace dom = simdjson::dom;

// Bodies up to this size reuse one parser per thread; bigger ones get a
// one-off parser so a rare huge body does not pin its buffers forever.
constexpr std::size_t kReusableCapacity = 8u << 20;

// ---------------------------------------------------------------------------
// Parsing and error text shared by all decoders.

Status BadResponse(std::string message) {
  return Status(StatusCode::kBadResponse, std::move(message));
}

std::string JsonErrorText(simdjson::error_code err) {
  switch (err) {
    case simdjson::EMPTY:
      return "empty body";
    case simdjson::DEPTH_ERROR:
      return "JSON nested deeper than " + std::to_string(kJsonMaxDepth) + " levels";
    case simdjson::UTF8_ERROR:
      return "body is not valid UTF-8";
    case simdjson::UNCLOSED_STRING:
      return "body is not valid JSON (unclosed string)";
    case simdjson::NUMBER_ERROR:
      return "body is not valid JSON (malformed number)";
    case simdjson::TAPE_ERROR:
      return "body is not valid JSON (bad structure: truncated, or trailing data)";
    default:
      return std::string("body is not valid JSON (") + simdjson::error_message(err) + ")";
  }
}

// Lends this thread's cached parser, or a one-off parser for huge bodies and
// when a callback (on_job) re-enters a decoder while the cached one is busy:
// reusing it then would destroy the document being walked.
class ParserLease {
 public:
  explicit ParserLease(std::size_t size) {
    if (size <= kReusableCapacity && !cached_busy_) {
      parser_ = &Cached();
      cached_busy_ = true;
      leased_ = true;
    } else {
      one_off_ = std::make_unique<dom::parser>();
      parser_ = one_off_.get();
    }
  }
  ~ParserLease() {
    if (leased_) cached_busy_ = false;
  }
  ParserLease(const ParserLease&) = delete;
  ParserLease& operator=(const ParserLease&) = delete;

  // REQUIRES: `padded` is readable kJsonPadding bytes past its end.
  Status Parse(std::string_view padded, dom::element& root) {
    if (parser_->max_depth() != kJsonMaxDepth) {
      // The depth is fixed at allocation; later parses keep it when they grow.
      if (parser_->allocate(std::max<std::size_t>(padded.size(), 4096), kJsonMaxDepth)) {
        return Status(StatusCode::kInternal, "out of memory for the JSON parser");
      }
    }
    simdjson::error_code err = parser_->parse(padded.data(), padded.size(), false).get(root);
    if (err) return BadResponse(JsonErrorText(err));
    return Status::Ok();
  }

 private:
  static dom::parser& Cached() {
    thread_local dom::parser parser;
    return parser;
  }
  static thread_local bool cached_busy_;
  dom::parser* parser_ = nullptr;
  std::unique_ptr<dom::parser> one_off_;
  bool leased_ = false;
};
thread_local bool ParserLease::cached_busy_ = false;

std::string_view TypeName(dom::element v) {
  switch (v.type()) {
    case dom::element_type::ARRAY:
      return "an array";
    case dom::element_type::OBJECT:
      return "an object";
    case dom::element_type::INT64:
    case dom::element_type::UINT64:
    case dom::element_type::DOUBLE:
      return "a number";
    case dom::element_type::STRING:
      return "a string";
    case dom::element_type::BOOL:
      return "a boolean";
    case dom::element_type::NULL_VALUE:
      return "null";
  }
  return "a value";
}

// Parses `padded` and requires an object root.
Status ParseObject(ParserLease& lease, std::string_view padded, dom::object& root) {
  dom::element e;
  Status s = lease.Parse(padded, e);
  if (!s.ok()) return s;
  if (e.get_object().get(root)) {
    return BadResponse("body is not a JSON object (got " + std::string(TypeName(e)) + ")");
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Jobs.

// key == literal, with the length known at compile time so the comparison is
// inlined (a memcmp call per key was measurable on a 1,000-job page).
template <size_t N>
bool Is(std::string_view key, const char (&literal)[N]) {
  return key.size() == N - 1 && std::memcmp(key.data(), literal, N - 1) == 0;
}

Status WrongType(const FieldPath& w, std::string_view field, std::string_view want,
                 dom::element v) {
  return BadField(w, field, "expected " + std::string(want) + ", got " + std::string(TypeName(v)));
}

// A string, or (when `nullable`) null, which leaves `out` empty. `Text` is
// std::string or CompactString.
template <typename Text>
Status ReadString(dom::element v, const FieldPath& w, std::string_view field, bool nullable,
                  Text& out) {
  std::string_view sv;
  if (v.get_string().get(sv) == simdjson::SUCCESS) {
    out.assign(sv);
    return Status::Ok();
  }
  if (nullable && v.is_null()) return Status::Ok();
  return WrongType(w, field, nullable ? "a string or null" : "a string", v);
}

inline bool IsAsciiUpper(char c) { return c >= 'A' && c <= 'Z'; }

// out = ASCII lower case of `text`. Up to kIdBuffer bytes (any GUID) go
// through a stack buffer, so an ordinary id costs no allocation; longer text
// (not a GUID, but the API may send it) is lowered in a heap copy.
void AssignLower(std::string_view text, CompactString& out) {
  if (std::none_of(text.begin(), text.end(), IsAsciiUpper)) {
    out.assign(text);
    return;
  }
  auto lower = [&](char* dst) {
    for (char c : text) *dst++ = IsAsciiUpper(c) ? static_cast<char>(c - 'A' + 'a') : c;
  };
  constexpr size_t kIdBuffer = 64;
  if (text.size() <= kIdBuffer) {
    char buf[kIdBuffer];
    lower(buf);
    out.assign(std::string_view(buf, text.size()));
  } else {
    std::string copy(text.size(), '\0');
    lower(copy.data());
    out.assign(copy);
  }
}

// A GUID string (or, when `nullable`, null), lower-cased as it is stored:
// GUIDs are case-insensitive, and nothing past the decoder compares them in
// any other case.
Status ReadGuid(dom::element v, const FieldPath& w, std::string_view field, bool nullable,
                CompactString& out) {
  std::string_view sv;
  if (v.get_string().get(sv) == simdjson::SUCCESS) {
    AssignLower(sv, out);
    return Status::Ok();
  }
  if (nullable && v.is_null()) return Status::Ok();
  return WrongType(w, field, nullable ? "a string or null" : "a string", v);
}

// Decodes one job object. The happy path builds no Status and no path text:
// it runs a thousand times per page. On failure `error` says where and why.
class JobDecoder {
 public:
  // `times` remembers dates across the jobs of a page.
  JobDecoder(const FieldPath& where, Job& job, FastTimestampParser& times)
      : where_(where), job_(job), times_(times) {}

  bool Decode(dom::element v) {
    dom::object obj;
    if (v.get_object().get(obj)) return WrongType("", "an object", v);
    for (dom::key_value_pair kv : obj) {
      if (!Field(kv.key, kv.value)) return false;
    }
    if (!(seen_ & kId)) return Fail("id", "missing");
    if (!(seen_ & kState)) return Fail("state", "missing");
    if (!(seen_ & kCreated)) return Fail("executionInfo.createdDateTime", "missing");
    return true;
  }

  Status error;

 private:
  enum Bit : unsigned {
    kId = 1u << 0,
    kState = 1u << 1,
    kType = 1u << 2,
    kName = 1u << 3,
    kUserId = 1u << 4,
    kItwinId = 1u << 5,
    kInfo = 1u << 6,
    kCreated = 1u << 7,
    kStarted = 1u << 8,
    kEnded = 1u << 9,
    kUnits = 1u << 10,
  };

  // One top-level key; unknown keys are ignored. Dispatch on the length
  // first: most keys are then rejected or matched by one comparison.
  bool Field(std::string_view key, dom::element v) {
    switch (key.size()) {
      case 2:
        return !Is(key, "id") || (Once(key, kId) && Id(v));
      case 4:
        if (Is(key, "type")) return Once(key, kType) && Type(v);
        return !Is(key, "name") || (Once(key, kName) && String(v, key, true, job_.name));
      case 5:
        return !Is(key, "state") || (Once(key, kState) && State(v));
      case 6:
        return !Is(key, "userId") || (Once(key, kUserId) && Guid(v, key, true, job_.user_id));
      case 7:
        return !Is(key, "iTwinId") || (Once(key, kItwinId) && Guid(v, key, true, job_.itwin_id));
      case 13:
        return !Is(key, "executionInfo") || (Once(key, kInfo) && Info(v));
      default:
        return true;
    }
  }

  bool Info(dom::element v) {
    dom::object info;
    if (v.get_object().get(info)) return WrongType("executionInfo", "an object", v);
    where_.sub = "executionInfo";
    for (dom::key_value_pair kv : info) {
      std::string_view key = kv.key;
      bool ok = true;
      if (Is(key, "createdDateTime")) {
        std::optional<TimePoint> created;
        ok = Once(key, kCreated) && Time(kv.value, key, false, created);
        if (ok) job_.created = *created;
      } else if (Is(key, "startedDateTime")) {
        ok = Once(key, kStarted) && Time(kv.value, key, true, job_.started);
      } else if (Is(key, "endedDateTime")) {
        ok = Once(key, kEnded) && Time(kv.value, key, true, job_.ended);
      } else if (Is(key, "processingUnits")) {
        ok = Once(key, kUnits) && Units(kv.value);
      }
      if (!ok) return false;
    }
    where_.sub = {};
    return true;
  }

  bool Id(dom::element v) {
    if (!Guid(v, "id", false, job_.id)) return false;
    return !job_.id.empty() || Fail("id", "empty");
  }

  bool State(dom::element v) {
    std::string_view text;
    if (v.get_string().get(text)) return WrongType("state", "a string", v);
    job_.state = ParseJobState(text);
    if (job_.state == JobState::kUnknown) job_.raw_state.assign(text);
    return true;
  }

  bool Type(dom::element v) {
    std::string_view text;
    if (v.get_string().get(text)) {
      return v.is_null() || WrongType("type", "a string or null", v);
    }
    job_.type = ParseJobType(text);
    if (job_.type == JobType::kUnknown) job_.raw_type.assign(text);
    return true;
  }

  bool String(dom::element v, std::string_view field, bool nullable, CompactString& out) {
    return Check(ReadString(v, where_, field, nullable, out));
  }

  bool Guid(dom::element v, std::string_view field, bool nullable, CompactString& out) {
    return Check(ReadGuid(v, where_, field, nullable, out));
  }

  // An RFC 3339 timestamp string, or (when `nullable`) null.
  bool Time(dom::element v, std::string_view field, bool nullable, std::optional<TimePoint>& out) {
    std::string_view sv;
    if (v.get_string().get(sv) != simdjson::SUCCESS) {
      if (nullable && v.is_null()) return true;
      return WrongType(field, nullable ? "a timestamp or null" : "a timestamp", v);
    }
    TimePoint fast;
    if (times_.Parse(sv, fast)) {
      out = fast;
      return true;
    }
    Result<TimePoint> t = ParseTimestamp(sv);
    if (!t.ok()) return Fail(field, t.status().message());
    out = *t;
    return true;
  }

  bool Units(dom::element v) {
    constexpr std::string_view kField = "processingUnits";
    if (v.is_null()) return true;
    double d = 0;
    if (v.get_double().get(d) != simdjson::SUCCESS) return WrongType(kField, "a number", v);
    if (!std::isfinite(d)) return Fail(kField, "not a finite number");
    if (d < 0) {
      char text[32];
      std::snprintf(text, sizeof text, "%g", d);
      return Fail(kField, std::string(text) + " is negative");
    }
    job_.processing_units = d;
    return true;
  }

  // A known key given twice is an error: {"state":"Success","state":"Active"}
  // has no safe reading.
  bool Once(std::string_view field, unsigned bit) {
    if (seen_ & bit) return Fail(field, "duplicate key");
    seen_ |= bit;
    return true;
  }

  bool Fail(std::string_view field, std::string_view what) {
    return Check(BadField(where_, field, what));
  }
  bool Check(Status s) {
    if (s.ok()) return true;
    error = std::move(s);
    return false;
  }
  bool WrongType(std::string_view field, std::string_view want, dom::element v) {
    return Check(::rcw::WrongType(where_, field, want, v));
  }

  FieldPath where_;
  Job& job_;
  FastTimestampParser& times_;
  unsigned seen_ = 0;
};

Status DecodeJob(dom::element v, const FieldPath& where, Job& job, FastTimestampParser& times) {
  JobDecoder decoder(where, job, times);
  if (decoder.Decode(v)) return Status::Ok();
  return std::move(decoder.error);
}

// `_links` of a list page: absent, null, {} or next:null all end the listing.
Status DecodeLinks(dom::element links, std::optional<std::string>& next) {
  const FieldPath w{"_links"};
  if (links.is_null()) return Status::Ok();
  dom::object obj;
  if (links.get_object().get(obj)) return WrongType(w, "", "an object or null", links);
  dom::element n;
  if (obj["next"].get(n) != simdjson::SUCCESS || n.is_null()) return Status::Ok();
  dom::element href;
  if (n.get_object().get(obj)) return WrongType(w, "next", "an object or null", n);
  if (obj["href"].get(href) != simdjson::SUCCESS) return BadField(w, "next.href", "missing");
  std::string text;
  Status s = ReadString(href, w, "next.href", false, text);
  if (!s.ok()) return s;
  // An empty link would silently end the listing early: refuse it.
  if (text.empty()) return BadField(w, "next.href", "empty");
  next = std::move(text);
  return Status::Ok();
}

// Finds root[key]; a key given twice is an error.
Status UniqueMember(dom::object root, std::string_view key, std::optional<dom::element>& out) {
  for (dom::key_value_pair kv : root) {
    if (kv.key != key) continue;
    if (out) return BadResponse(std::string(key) + ": duplicate key");
    out = kv.value;
  }
  return Status::Ok();
}

// Calls decode_one(element, where, times) for each job of the array, in
// order, until one fails. `times` is shared by the page: its jobs mostly
// share their dates.
template <typename DecodeOne>
Status ForEachJob(dom::element jobs, DecodeOne&& decode_one) {
  dom::array arr;
  if (jobs.get_array().get(arr)) return WrongType(FieldPath{"jobs"}, "", "an array", jobs);
  long index = 0;
  FastTimestampParser times;
  for (dom::element v : arr) {
    Status s = decode_one(v, FieldPath{"jobs", index}, times);
    if (!s.ok()) return s;
    ++index;
  }
  return Status::Ok();
}

// The body of both DecodeJobPage overloads; see decode.h.
template <typename DecodeOne>
Status DecodePage(const PaddedJson& body, DecodeOne&& decode_one,
                  std::optional<std::string>& next_href) {
  next_href.reset();
  ParserLease lease(body.view().size());
  dom::object root;
  Status s = ParseObject(lease, body.view(), root);
  std::optional<dom::element> jobs, links;
  if (s.ok()) s = UniqueMember(root, "jobs", jobs);
  if (s.ok()) s = UniqueMember(root, "_links", links);
  if (!s.ok()) return s;
  if (!jobs) return BadResponse("jobs: missing");
  std::optional<std::string> next;
  // Links first: a page with a broken link fails before delivering any job.
  if (links) s = DecodeLinks(*links, next);
  if (s.ok()) s = ForEachJob(*jobs, decode_one);
  if (s.ok()) next_href = std::move(next);
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------
// Public decoders.

Status DecodeJobPage(const PaddedJson& body, const std::function<void(Job&&)>& on_job,
                     std::optional<std::string>& next_href) {
  auto deliver = [&](dom::element v, const FieldPath& where, FastTimestampParser& times) {
    Job job;
    Status s = DecodeJob(v, where, job, times);
    if (s.ok()) on_job(std::move(job));
    return s;
  };
  return DecodePage(body, deliver, next_href);
}

Status DecodeJobPage(const PaddedJson& body, std::vector<Job>& jobs,
                     std::optional<std::string>& next_href) {
  auto append = [&](dom::element v, const FieldPath& where, FastTimestampParser& times) {
    Status s = DecodeJob(v, where, jobs.emplace_back(), times);
    if (!s.ok()) jobs.pop_back();
    return s;
  };
  return DecodePage(body, append, next_href);
}

Status DecodeJobPage(std::string_view body, const std::function<void(Job&&)>& on_job,
                     std::optional<std::string>& next_href) {
  return DecodeJobPage(PaddedJson::Copy(body), on_job, next_href);
}

Result<Job> DecodeJobEnvelope(std::string_view body) {
  PaddedJson padded = PaddedJson::Copy(body);
  ParserLease lease(body.size());
  dom::object root;
  Status s = ParseObject(lease, padded.view(), root);
  std::optional<dom::element> job_value;
  if (s.ok()) s = UniqueMember(root, "job", job_value);
  if (!s.ok()) return s;
  if (!job_value) return BadResponse("job: missing");
  Job job;
  FastTimestampParser times;
  s = DecodeJob(*job_value, FieldPath{"job"}, job, times);
  if (!s.ok()) return s;
  return job;
}

// ---------------------------------------------------------------------------
// Error bodies and token responses: small, read by key, tolerant.

namespace {

std::string StringMember(dom::object obj, std::string_view key) {
  std::string_view sv;
  if (obj[key].get_string().get(sv) == simdjson::SUCCESS) return std::string(sv);
  return {};
}

ApiErrorBody FromErrorObject(dom::object error) {
  ApiErrorBody out{StringMember(error, "code"),
                   StringMember(error, "message"),
                   StringMember(error, "target"),
                   {}};
  dom::array details;
  if (error["details"].get_array().get(details) != simdjson::SUCCESS) return out;
  for (dom::element d : details) {
    dom::object obj;
    if (d.get_object().get(obj) != simdjson::SUCCESS) continue;
    out.details.push_back(ApiErrorDetail{StringMember(obj, "code"), StringMember(obj, "message"),
                                         StringMember(obj, "target")});
  }
  return out;
}

// expires_in: a number or a numeric string; nullopt when it is neither.
std::optional<double> NumberOrNumericString(dom::element v) {
  double d = 0;
  if (v.get_double().get(d) == simdjson::SUCCESS) return d;
  std::string_view sv;
  if (v.get_string().get(sv) != simdjson::SUCCESS) return std::nullopt;
  auto [end, ec] = std::from_chars(sv.data(), sv.data() + sv.size(), d);
  if (ec != std::errc() || end != sv.data() + sv.size()) return std::nullopt;
  return d;
}

Status ReadExpiresIn(dom::object root, Seconds& out) {
  constexpr double kYear = 365.0 * 86400;
  dom::element v;
  if (root["expires_in"].get(v) != simdjson::SUCCESS || v.is_null()) return Status::Ok();
  std::optional<double> d = NumberOrNumericString(v);
  if (!d) return BadResponse("expires_in: expected a number, got " + std::string(TypeName(v)));
  if (!std::isfinite(*d) || *d < 1) return BadResponse("expires_in: must be at least 1 second");
  out = Seconds{static_cast<long long>(std::min(*d, kYear))};
  return Status::Ok();
}

}  // namespace

std::optional<ApiErrorBody> DecodeErrorBody(std::string_view body) {
  PaddedJson padded = PaddedJson::Copy(body);
  ParserLease lease(body.size());
  dom::object root;
  if (!ParseObject(lease, padded.view(), root).ok()) return std::nullopt;
  dom::element error;
  if (root["error"].get(error) == simdjson::SUCCESS) {
    dom::object obj;
    if (error.get_object().get(obj) == simdjson::SUCCESS) return FromErrorObject(obj);
    std::string_view code;  // OAuth (RFC 6749 §5.2)
    if (error.get_string().get(code) == simdjson::SUCCESS) {
      return ApiErrorBody{std::string(code), StringMember(root, "error_description"), {}, {}};
    }
  }
  ApiErrorBody flat{StringMember(root, "code"), StringMember(root, "message"), {}, {}};
  if (flat.code.empty() && flat.message.empty()) return std::nullopt;
  return flat;
}

Result<TokenResponse> DecodeTokenResponse(std::string_view body) {
  PaddedJson padded = PaddedJson::Copy(body);
  ParserLease lease(body.size());
  dom::object root;
  Status s = ParseObject(lease, padded.view(), root);
  if (!s.ok()) return s;
  TokenResponse out;
  dom::element token;
  if (root["access_token"].get(token) != simdjson::SUCCESS) {
    return BadResponse("access_token: missing");
  }
  // Never quote the value: it is the credential.
  s = ReadString(token, FieldPath{}, "access_token", false, out.access_token);
  if (s.ok() && out.access_token.empty()) s = BadResponse("access_token: empty");
  dom::element type;
  if (s.ok() && root["token_type"].get(type) == simdjson::SUCCESS) {
    s = ReadString(type, FieldPath{}, "token_type", true, out.token_type);
  }
  if (s.ok()) s = ReadExpiresIn(root, out.expires_in);
  if (!s.ok()) return s;
  if (out.token_type.empty()) out.token_type = "Bearer";
  return out;
}

// ---- state.json (written by state/EncodeState) ----
namespace {

using StateArray = simdjson::dom::array;
using StateElement = simdjson::dom::element;
using StateObject = simdjson::dom::object;

struct StateReader {
  std::string error;

  bool Fail(const std::string& where, const std::string& what) {
    if (error.empty()) error = where + ": " + what;
    return false;
  }

  template <typename Text>  // std::string or CompactString
  bool Str(StateObject o, const char* key, Text& out, const std::string& where) {
    std::string_view v;
    if (o[key].get_string().get(v)) return Fail(where + "." + key, "expected a string");
    out.assign(v);
    return true;
  }

  bool Time(StateObject o, const char* key, TimePoint& out, const std::string& where) {
    std::string text;
    if (!Str(o, key, text, where)) return false;
    Result<TimePoint> t = ParseTimestamp(text);
    if (!t.ok()) return Fail(where + "." + key, t.status().message());
    out = *t;
    return true;
  }

  bool Num(StateObject o, const char* key, double& out, const std::string& where) {
    if (o[key].get_double().get(out)) return Fail(where + "." + key, "expected a number");
    return true;
  }

  bool Int(StateObject o, const char* key, int& out, const std::string& where) {
    int64_t v = 0;
    if (o[key].get_int64().get(v)) return Fail(where + "." + key, "expected an integer");
    out = static_cast<int>(v);
    return true;
  }

  bool Set(StateObject root, const char* key, std::set<std::string>& out) {
    StateArray a;
    if (root[key].get_array().get(a)) return Fail(key, "expected an array");
    for (StateElement e : a) {
      std::string_view v;
      if (e.get_string().get(v)) return Fail(key, "expected strings");
      out.emplace(v);
    }
    return true;
  }

  // Objects {"job_id", "owner", "what", "itwin_id"}, or the "job|owner|what"
  // strings of 0.1.0 (no iTwin: pruned on a complete listing only).
  bool Markers(StateObject root, const char* key, MarkerSet& out) {
    StateArray a;
    if (root[key].get_array().get(a)) return Fail(key, "expected an array");
    std::size_t i = 0;
    for (StateElement e : a) {
      std::string where = std::string(key) + "[" + std::to_string(i++) + "]";
      JobMarker m;
      std::string_view legacy;
      StateObject o;
      if (!e.get_string().get(legacy)) {
        std::size_t first = legacy.find('|'), second = legacy.find('|', first + 1);
        if (first == legacy.npos || second == legacy.npos) return Fail(where, "expected job|owner|what");
        m.job_id.assign(legacy.substr(0, first));
        m.owner.assign(legacy.substr(first + 1, second - first - 1));
        m.what.assign(legacy.substr(second + 1));
      } else if (e.get_object().get(o) || !Str(o, "job_id", m.job_id, where) ||
                 !Str(o, "owner", m.owner, where) || !Str(o, "what", m.what, where) ||
                 !Str(o, "itwin_id", m.itwin_id, where)) {
        return error.empty() ? Fail(where, "expected an object or a string") : false;
      }
      out.insert(std::move(m));
    }
    return true;
  }

  bool Pending(StateObject o, PendingCancel& p, const std::string& w) {
    bool accepted = false;
    if (o["accepted"].get_bool().get(accepted)) return Fail(w + ".accepted", "expected a boolean");
    p.accepted = accepted;
    return Str(o, "job_id", p.job_id, w) && Str(o, "policy", p.policy, w) &&
           Str(o, "limit", p.limit, w) && Str(o, "itwin_id", p.itwin_id, w) &&
           Str(o, "type", p.type, w) && Str(o, "name", p.name, w) &&
           Str(o, "user_id", p.user_id, w) && Num(o, "observed", p.observed, w) &&
           Num(o, "threshold", p.threshold, w) && Int(o, "attempts", p.attempts, w) &&
           Time(o, "next_attempt", p.next_attempt, w) &&
           Time(o, "requested_at", p.requested_at, w) &&
           Int(o, "polls_since_accept", p.polls_since_accept, w);
  }

  bool Ledger(StateObject o, LedgerEntry& e, const std::string& w) {
    std::string type;
    if (!Str(o, "type", type, w)) return false;
    std::string_view name;  // optional: absent in state files of 0.1.0 betas
    if (!o["name"].get_string().get(name)) e.name.assign(name);
    e.type = ParseJobType(type);
    return Str(o, "job_id", e.job_id, w) && Time(o, "ended", e.ended, w) &&
           Num(o, "pu", e.processing_units, w) && Str(o, "itwin_id", e.itwin_id, w) &&
           Str(o, "user_id", e.user_id, w);
  }

  bool Rate(StateObject o, LearnedRate& r, const std::string& w) {
    std::string type;
    if (!Str(o, "type", type, w)) return false;
    r.type = ParseJobType(type);
    return Num(o, "pu_per_hour", r.pu_per_hour, w) && Int(o, "samples", r.samples, w);
  }

  template <class Container, class F>  // std::vector or std::deque
  bool List(StateObject root, const char* key, Container& out, F read) {
    StateArray a;
    if (root[key].get_array().get(a)) return Fail(key, "expected an array");
    size_t i = 0;
    for (StateElement e : a) {
      std::string where = std::string(key) + "[" + std::to_string(i++) + "]";
      StateObject o;
      if (e.get_object().get(o)) return Fail(where, "expected an object");
      typename Container::value_type value;
      if (!(this->*read)(o, value, where)) return false;
      out.push_back(std::move(value));
    }
    return true;
  }

  bool Root(StateObject root, PersistentState& s) {
    int64_t version = 0;
    if (root["version"].get_int64().get(version) || version != 1) {
      return Fail("version", "unsupported state version (expected 1)");
    }
    StateObject seen;
    if (root["first_seen_active"].get_object().get(seen)) {
      return Fail("first_seen_active", "expected an object");
    }
    for (auto field : seen) {
      std::string_view text;
      if (field.value.get_string().get(text)) return Fail("first_seen_active", "expected strings");
      Result<TimePoint> t = ParseTimestamp(text);
      if (!t.ok()) return Fail("first_seen_active", t.status().message());
      s.first_seen_active.emplace(std::string(field.key), *t);
    }
    StateArray times;
    if (root["cancel_times"].get_array().get(times)) return Fail("cancel_times", "expected an array");
    for (StateElement e : times) {
      std::string_view text;
      Result<TimePoint> t = e.get_string().get(text) ? Result<TimePoint>(Status(
                                                           StatusCode::kBadResponse, "not a string"))
                                                     : ParseTimestamp(text);
      if (!t.ok()) return Fail("cancel_times", t.status().message());
      s.cancel_times.push_back(*t);
    }
    std::string_view pruned;  // optional: absent in states written before it existed
    if (auto field = root["ledger_pruned_before"]; field.error() != simdjson::NO_SUCH_FIELD) {
      if (field.get_string().get(pruned)) return Fail("ledger_pruned_before", "expected a string");
      Result<TimePoint> t = ParseTimestamp(pruned);
      if (!t.ok()) return Fail("ledger_pruned_before", t.status().message());
      s.ledger_pruned_before = *t;
    }
    return Markers(root, "warned", s.warned) && Markers(root, "violated", s.violated) &&
           Set(root, "budget_warned", s.budget_warned) &&
           Set(root, "budget_exceeded", s.budget_exceeded) &&
           Set(root, "followed", s.followed) &&
           List(root, "pending", s.pending, &StateReader::Pending) &&
           List(root, "ledger", s.ledger, &StateReader::Ledger) &&
           List(root, "rates", s.rates, &StateReader::Rate);
  }
};

}  // namespace

Result<LedgerEntry> DecodeLedgerLine(std::string_view line) {
  // One parser per thread, reused: a line is small, and a save's file has
  // 100,000 of them.
  thread_local simdjson::dom::parser parser;
  StateElement doc;
  if (auto err = parser.parse(line.data(), line.size(), true).get(doc)) {
    return Status(StatusCode::kBadResponse, std::string("not valid JSON: ") +
                                                simdjson::error_message(err));
  }
  StateObject o;
  if (doc.get_object().get(o)) return Status(StatusCode::kBadResponse, "expected an object");
  LedgerEntry entry;
  StateReader reader;
  if (!reader.Ledger(o, entry, "entry")) return Status(StatusCode::kBadResponse, reader.error);
  return entry;
}

Result<PersistentState> DecodeState(std::string_view body) {
  simdjson::dom::parser parser;
  StateElement doc;
  if (auto err = parser.parse(simdjson::padded_string(body)).get(doc)) {
    return Status(StatusCode::kBadResponse, std::string("not valid JSON: ") +
                                                simdjson::error_message(err));
  }
  StateObject root;
  if (doc.get_object().get(root)) return Status(StatusCode::kBadResponse, "expected an object");
  PersistentState state;
  StateReader reader;
  if (!reader.Root(root, state)) return Status(StatusCode::kBadResponse, reader.error);
  return state;
}

}  // namespace rcw
