#include "notify/alert.h"

#include "base/json_writer.h"
#include "base/timefmt.h"

namespace rcw {

std::string Alert::Key() const {
  std::string key;
  for (const auto& [name, value] : labels) {
    key += name;
    key += '=';
    key += value;
    key += '\x1f';
  }
  return key;
}

std::string_view Alert::Label(std::string_view name) const {
  for (const auto& [n, v] : labels) {
    if (n == name) return v;
  }
  return {};
}

std::string EncodeAlerts(std::span<const Alert> alerts, TimePoint now, Seconds hold) {
  JsonWriter w;
  w.BeginArray();
  for (const Alert& a : alerts) {
    w.BeginObject().Key("labels").BeginObject();
    for (const auto& [name, value] : a.labels) w.Key(name).String(value);
    w.EndObject().Key("annotations").BeginObject();
    for (const auto& [name, value] : a.annotations) w.Key(name).String(value);
    w.EndObject();
    w.Key("startsAt").String(FormatTimestampMs(a.starts_at));
    w.Key("endsAt").String(FormatTimestampMs(a.ends_at ? *a.ends_at : now + hold));
    w.EndObject();
  }
  w.EndArray();
  return w.Take();
}

}  // namespace rcw
