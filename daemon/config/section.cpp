#include "config/section.h"

#include <limits>

#include "config/suggest.h"

namespace rcw {

Section::Section(const YamlNode* node, std::string path, Diagnostics& diag, YamlMark where,
                 std::span<const std::string_view> keys, std::span<const KeyHint> hints)
    : node_(nullptr), path_(std::move(path)), diag_(diag), mark_(where), keys_(keys) {
  if (node == nullptr) return;
  mark_ = node->key_mark;
  if (node->IsMapping()) {
    node_ = node;
    CheckKeys(hints);
  } else if (!node->IsNull()) {
    diag_.Error(node->mark, path_,
                "expected a mapping (key: value lines), found " + DescribeNode(*node));
    mark_ = YamlMark{};  // quiets Require
  }
}

void Section::CheckKeys(std::span<const KeyHint> hints) {
  for (const YamlNode& child : node_->children) {
    bool known = false;
    for (std::string_view k : keys_) known = known || k == child.key;
    if (known) continue;
    std::string message = "unknown key";
    if (auto s = Suggest(child.key, keys_)) {
      message += "; did you mean `" + *s + "`?";
    } else {
      const KeyHint* hint = nullptr;
      for (const KeyHint& h : hints) {
        if (h.key == child.key) hint = &h;
      }
      if (hint != nullptr) {
        message += "; it belongs under `" + std::string(hint->section) + ":`";
      } else {
        message += " (use " + JoinChoices(keys_) + ")";
      }
    }
    diag_.Error(child.key_mark, Path(child.key), message);
  }
}

const YamlNode* Section::Get(std::string_view key) const {
  if (node_ == nullptr) return nullptr;
  for (const YamlNode& child : node_->children) {
    if (child.key == key) return &child;
  }
  return nullptr;
}

const YamlNode* Section::Require(std::string_view key, std::string_view accepted) {
  const YamlNode* value = Get(key);
  if (value == nullptr && mark_.line > 0) {
    std::string message = "required key is missing";
    if (!accepted.empty()) message += " (" + std::string(accepted) + ")";
    diag_.Error(mark_, Path(key), message);
  }
  return value;
}

bool Section::String(std::string_view key, std::string& out) {
  const YamlNode* v = Get(key);
  if (v == nullptr) return false;
  std::optional<std::string> s = ReadString(*v, Path(key), diag_);
  if (s) out = std::move(*s);
  return s.has_value();
}

bool Section::Int(std::string_view key, int& out, long long min, long long max) {
  const YamlNode* v = Get(key);
  if (v == nullptr) return false;
  std::optional<long long> i = ReadInt(*v, Path(key), diag_, min, max);
  if (i) out = static_cast<int>(*i);
  return i.has_value();
}

bool Section::Number(std::string_view key, double& out, NumberRange range) {
  std::optional<double> d;
  if (!Number(key, d, range)) return false;
  out = *d;
  return true;
}

bool Section::Number(std::string_view key, std::optional<double>& out, NumberRange range) {
  const YamlNode* v = Get(key);
  if (v == nullptr) return false;
  std::optional<double> d = ReadNumber(*v, Path(key), diag_, range);
  if (d) out = d;
  return d.has_value();
}

bool Section::Bool(std::string_view key, bool& out) {
  const YamlNode* v = Get(key);
  if (v == nullptr) return false;
  std::optional<bool> b = ReadBool(*v, Path(key), diag_);
  if (b) out = *b;
  return b.has_value();
}

bool Section::Duration(std::string_view key, Seconds& out, DurationRange range) {
  const YamlNode* v = Get(key);
  if (v == nullptr) return false;
  std::optional<Seconds> d = ReadDuration(*v, Path(key), diag_, range);
  if (d) out = *d;
  return d.has_value();
}

std::optional<size_t> Section::Choice(std::string_view key,
                                      std::span<const std::string_view> choices) {
  const YamlNode* v = Get(key);
  if (v == nullptr) return std::nullopt;
  return ReadChoice(*v, Path(key), diag_, choices);
}

Section SubSection(const Section& parent, std::string_view key,
                   std::span<const std::string_view> keys, std::span<const KeyHint> hints) {
  return Section(parent.Get(key), parent.Path(key), parent.diag(), YamlMark{}, keys, hints);
}

}  // namespace rcw
