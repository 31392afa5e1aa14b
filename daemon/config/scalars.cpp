#include "config/scalars.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>

#include "base/timefmt.h"
#include "config/suggest.h"

namespace rcw {
namespace {

std::string Quote(std::string_view text) {
  constexpr size_t kMaxShown = 64;
  std::string out = "\"" + std::string(text.substr(0, kMaxShown));
  return out + (text.size() > kMaxShown ? "...\"" : "\"");
}

// Numbers and booleans must be plain scalars; says so and returns false otherwise.
bool ExpectPlain(const YamlNode& node, const std::string& path, Diagnostics& diag,
                 std::string_view expected) {
  if (!ExpectScalar(node, path, diag, expected)) return false;
  if (node.plain) return true;
  diag.Error(node.mark, path,
             Quote(node.text) + " is quoted, so it is a string (use " + std::string(expected) +
                 " without quotes)");
  return false;
}

std::string FormatNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

std::string_view RangeText(NumberRange range) {
  switch (range) {
    case NumberRange::kPositive:
      return "a number > 0";
    case NumberRange::kFraction:
      return "a fraction in (0, 1], like 0.5";
    case NumberRange::kOpenFraction:
      return "a fraction between 0 and 1, exclusive, like 0.8";
  }
  return "";
}

bool InRange(double v, NumberRange range) {
  switch (range) {
    case NumberRange::kPositive:
      return v > 0;
    case NumberRange::kFraction:
      return v > 0 && v <= 1;
    case NumberRange::kOpenFraction:
      return v > 0 && v < 1;
  }
  return false;
}

}  // namespace

std::string DescribeNode(const YamlNode& node) {
  switch (node.kind) {
    case YamlNode::Kind::kNull:
      return "an empty value";
    case YamlNode::Kind::kSequence:
      return "a list";
    case YamlNode::Kind::kMapping:
      return "a mapping";
    case YamlNode::Kind::kScalar:
      return Quote(node.text);
  }
  return "";
}

bool ExpectScalar(const YamlNode& node, const std::string& path, Diagnostics& diag,
                  std::string_view expected) {
  if (node.IsScalar()) return true;
  diag.Error(node.mark, path,
             "expected " + std::string(expected) + ", found " + DescribeNode(node));
  return false;
}

std::optional<std::string> ReadString(const YamlNode& node, const std::string& path,
                                      Diagnostics& diag) {
  if (!ExpectScalar(node, path, diag, "a text value")) return std::nullopt;
  if (!node.text.empty()) return node.text;
  diag.Error(node.mark, path, "is empty (use a non-empty text value)");
  return std::nullopt;
}

std::optional<long long> ReadInt(const YamlNode& node, const std::string& path, Diagnostics& diag,
                                 long long min, long long max) {
  // An int field's ceiling is no limit a user needs to hear about.
  std::string accepted = max >= std::numeric_limits<int>::max()
                             ? "an integer >= " + std::to_string(min)
                             : "an integer " + std::to_string(min) + ".." + std::to_string(max);
  if (!ExpectPlain(node, path, diag, accepted)) return std::nullopt;
  std::string_view text = node.text;
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  long long v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    diag.Error(node.mark, path, Quote(node.text) + " is not an integer (use " + accepted + ")");
    return std::nullopt;
  }
  if (v < min || v > max) {
    diag.Error(node.mark, path, node.text + " is out of range (use " + accepted + ")");
    return std::nullopt;
  }
  return v;
}

std::optional<double> ReadNumber(const YamlNode& node, const std::string& path, Diagnostics& diag,
                                 NumberRange range) {
  std::string accepted(RangeText(range));
  if (!ExpectPlain(node, path, diag, accepted)) return std::nullopt;
  std::string_view text = node.text;
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) {
    diag.Error(node.mark, path, Quote(node.text) + " is not a number (use " + accepted + ")");
    return std::nullopt;
  }
  if (!InRange(v, range)) {
    diag.Error(node.mark, path, FormatNumber(v) + " is out of range (use " + accepted + ")");
    return std::nullopt;
  }
  return v;
}

std::optional<bool> ReadBool(const YamlNode& node, const std::string& path, Diagnostics& diag) {
  if (!ExpectPlain(node, path, diag, "true or false")) return std::nullopt;
  const std::string& t = node.text;
  if (t == "true" || t == "True" || t == "TRUE") return true;
  if (t == "false" || t == "False" || t == "FALSE") return false;
  diag.Error(node.mark, path, Quote(t) + " is not a boolean (use true or false)");
  return std::nullopt;
}

std::optional<Seconds> ReadDuration(const YamlNode& node, const std::string& path,
                                    Diagnostics& diag, DurationRange range) {
  const bool positive = range == DurationRange::kPositive;
  std::string accepted = positive ? "a duration > 0 like 90s, 30m, 2h, 1d, 1h30m"
                                  : "a duration like 0s, 90s, 30m, 2h, 1d";
  if (!ExpectScalar(node, path, diag, accepted)) return std::nullopt;
  if (!node.text.empty() && node.text[0] == '-') {
    diag.Error(node.mark, path, Quote(node.text) + " is negative (use " + accepted + ")");
    return std::nullopt;
  }
  Result<Seconds> d = ParseDuration(node.text);
  if (!d.ok()) {
    diag.Error(node.mark, path, d.status().message());
    return std::nullopt;
  }
  if (positive && d->count() == 0) {
    diag.Error(node.mark, path, Quote(node.text) + " is zero (use " + accepted + ")");
    return std::nullopt;
  }
  return *d;
}

std::optional<size_t> ReadChoice(const YamlNode& node, const std::string& path, Diagnostics& diag,
                                 std::span<const std::string_view> choices) {
  std::string accepted = JoinChoices(choices);
  if (!ExpectScalar(node, path, diag, "one of " + accepted)) return std::nullopt;
  for (size_t i = 0; i < choices.size(); ++i) {
    if (choices[i] == node.text) return i;
  }
  std::string message = Quote(node.text) + " is not a valid value (use " + accepted + ")";
  if (auto s = Suggest(node.text, choices)) message += "; did you mean `" + *s + "`?";
  diag.Error(node.mark, path, message);
  return std::nullopt;
}

const std::vector<YamlNode>* ReadSequence(const YamlNode& node, const std::string& path,
                                          Diagnostics& diag, bool allow_empty,
                                          std::string_view empty_hint) {
  if (!node.IsSequence()) {
    diag.Error(node.mark, path,
               "expected a list ([a, b] or \"- a\" lines), found " + DescribeNode(node));
    return nullptr;
  }
  if (node.children.empty() && !allow_empty) {
    diag.Error(node.mark, path, "is an empty list (" + std::string(empty_hint) + ")");
    return nullptr;
  }
  return &node.children;
}

bool IsGuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? text[i] != '-' : !std::isxdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  return true;
}

std::optional<std::vector<std::string>> ReadGuidList(const YamlNode& node, const std::string& path,
                                                     Diagnostics& diag, bool allow_empty,
                                                     std::string_view empty_hint) {
  const std::vector<YamlNode>* items = ReadSequence(node, path, diag, allow_empty, empty_hint);
  if (items == nullptr) return std::nullopt;
  std::vector<std::string> out;
  bool ok = true;
  for (size_t i = 0; i < items->size(); ++i) {
    const YamlNode& item = (*items)[i];
    std::string item_path = IndexPath(path, i);
    if (!ExpectScalar(item, item_path, diag, "an id (a GUID)")) {
      ok = false;
    } else if (!IsGuid(item.text)) {
      diag.Error(item.mark, item_path,
                 Quote(item.text) + " is not an id (use a GUID like " +
                     "ce54f773-67db-4b4f-a98b-368329107429)");
      ok = false;
    } else {
      // GUIDs are case-insensitive; lower-cased once here (the decoder does
      // the same to job fields), so match.h compares exactly.
      std::string id = item.text;
      for (char& c : id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.push_back(std::move(id));
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

bool CheckUniqueGuids(const YamlNode& node, const std::string& path,
                      const std::vector<std::string>& ids, Diagnostics& diag) {
  std::map<std::string_view, size_t> first;  // id -> index of its first copy
  bool ok = true;
  for (size_t i = 0; i < ids.size() && i < node.children.size(); ++i) {
    auto [it, inserted] = first.emplace(ids[i], i);
    if (inserted) continue;
    diag.Error(node.children[i].mark, IndexPath(path, i),
               Quote(node.children[i].text) + " is listed twice (also at line " +
                   std::to_string(node.children[it->second].mark.line) +
                   "; ids are not case-sensitive): its jobs would be counted twice "
                   "(list each id once)");
    ok = false;
  }
  return ok;
}

}  // namespace rcw
