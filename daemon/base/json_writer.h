// A small streaming JSON writer for audit lines, state.json and `plan --format
// json`. Output is compact (no spaces) and always valid UTF-8-escaped JSON as
// long as calls are balanced. Decoding JSON is json/'s job, not this one's.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rcw {

// Appends `s` as a quoted JSON string; control characters and invalid UTF-8
// bytes are escaped (\u00XX) so no input can break a line of JSONL.
void AppendJsonString(std::string& out, std::string_view s);

class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(std::int64_t value);
  // Finite doubles print with up to 17 significant digits; NaN/Inf as null.
  JsonWriter& Number(double value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }
  // Drops the text written so far but keeps the nesting: the caller has
  // consumed str() and the document goes on (streaming).
  void ClearOutput() { out_.clear(); }

 private:
  void BeforeValue();
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

}  // namespace rcw
