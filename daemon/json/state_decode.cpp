// TEMPORARY: to be merged into decode.cpp (the one simdjson translation unit).
#include <simdjson.h>

#include "base/timefmt.h"
#include "json/state_decode.h"

namespace rcw {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

struct StateReader {
  std::string error;

  bool Fail(const std::string& where, const std::string& what) {
    if (error.empty()) error = where + ": " + what;
    return false;
  }

  bool Str(object o, const char* key, std::string& out, const std::string& where) {
    std::string_view v;
    if (o[key].get_string().get(v)) return Fail(where + "." + key, "expected a string");
    out.assign(v);
    return true;
  }

  bool Time(object o, const char* key, TimePoint& out, const std::string& where) {
    std::string text;
    if (!Str(o, key, text, where)) return false;
    Result<TimePoint> t = ParseTimestamp(text);
    if (!t.ok()) return Fail(where + "." + key, t.status().message());
    out = *t;
    return true;
  }

  bool Num(object o, const char* key, double& out, const std::string& where) {
    if (o[key].get_double().get(out)) return Fail(where + "." + key, "expected a number");
    return true;
  }

  bool Int(object o, const char* key, int& out, const std::string& where) {
    int64_t v = 0;
    if (o[key].get_int64().get(v)) return Fail(where + "." + key, "expected an integer");
    out = static_cast<int>(v);
    return true;
  }

  bool Set(object root, const char* key, std::set<std::string>& out) {
    array a;
    if (root[key].get_array().get(a)) return Fail(key, "expected an array");
    for (element e : a) {
      std::string_view v;
      if (e.get_string().get(v)) return Fail(key, "expected strings");
      out.emplace(v);
    }
    return true;
  }

  bool Pending(object o, PendingCancel& p, const std::string& w) {
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

  bool Ledger(object o, LedgerEntry& e, const std::string& w) {
    std::string type;
    if (!Str(o, "type", type, w)) return false;
    std::string_view name;  // optional: absent in state files of 0.1.0 betas
    if (!o["name"].get_string().get(name)) e.name.assign(name);
    e.type = ParseJobType(type);
    return Str(o, "job_id", e.job_id, w) && Time(o, "ended", e.ended, w) &&
           Num(o, "pu", e.processing_units, w) && Str(o, "itwin_id", e.itwin_id, w) &&
           Str(o, "user_id", e.user_id, w);
  }

  bool Rate(object o, LearnedRate& r, const std::string& w) {
    std::string type;
    if (!Str(o, "type", type, w)) return false;
    r.type = ParseJobType(type);
    return Num(o, "pu_per_hour", r.pu_per_hour, w) && Int(o, "samples", r.samples, w);
  }

  template <class T, class F>
  bool List(object root, const char* key, std::vector<T>& out, F read) {
    array a;
    if (root[key].get_array().get(a)) return Fail(key, "expected an array");
    size_t i = 0;
    for (element e : a) {
      std::string where = std::string(key) + "[" + std::to_string(i++) + "]";
      object o;
      if (e.get_object().get(o)) return Fail(where, "expected an object");
      T value;
      if (!(this->*read)(o, value, where)) return false;
      out.push_back(std::move(value));
    }
    return true;
  }

  bool Root(object root, PersistentState& s) {
    int64_t version = 0;
    if (root["version"].get_int64().get(version) || version != 1) {
      return Fail("version", "unsupported state version (expected 1)");
    }
    object seen;
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
    array times;
    if (root["cancel_times"].get_array().get(times)) return Fail("cancel_times", "expected an array");
    for (element e : times) {
      std::string_view text;
      Result<TimePoint> t = e.get_string().get(text) ? Result<TimePoint>(Status(
                                                           StatusCode::kBadResponse, "not a string"))
                                                     : ParseTimestamp(text);
      if (!t.ok()) return Fail("cancel_times", t.status().message());
      s.cancel_times.push_back(*t);
    }
    return Set(root, "warned", s.warned) && Set(root, "violated", s.violated) &&
           Set(root, "budget_warned", s.budget_warned) &&
           Set(root, "budget_exceeded", s.budget_exceeded) &&
           Set(root, "followed", s.followed) &&
           List(root, "pending", s.pending, &StateReader::Pending) &&
           List(root, "ledger", s.ledger, &StateReader::Ledger) &&
           List(root, "rates", s.rates, &StateReader::Rate);
  }
};

}  // namespace

Result<PersistentState> DecodeState(std::string_view body) {
  simdjson::dom::parser parser;
  element doc;
  if (auto err = parser.parse(simdjson::padded_string(body)).get(doc)) {
    return Status(StatusCode::kBadResponse, std::string("not valid JSON: ") +
                                                simdjson::error_message(err));
  }
  object root;
  if (doc.get_object().get(root)) return Status(StatusCode::kBadResponse, "expected an object");
  PersistentState state;
  StateReader reader;
  if (!reader.Root(root, state)) return Status(StatusCode::kBadResponse, reader.error);
  return state;
}

}  // namespace rcw
