#include "config/yaml_reader.h"

#include <yaml-cpp/yaml.h>

#include <exception>
#include <string>
#include <unordered_map>
#include <vector>

namespace rcw {
namespace {

// yaml-cpp marks are 0-based, -1 when unknown.
YamlMark ToMark(const YAML::Mark& m) {
  if (m.line < 0 || m.column < 0) return {};
  return {m.line + 1, m.column + 1};
}

struct TooManyNodes {};

class Converter {
 public:
  explicit Converter(Diagnostics& diag) : diag_(diag) {}

  // Fills `out` (whose key and key_mark the caller set) from `in`.
  void Convert(const YAML::Node& in, const std::string& path, YamlNode& out) {
    if (++count_ > kMaxYamlNodes) throw TooManyNodes{};
    out.mark = ToMark(in.Mark());
    switch (in.Type()) {
      case YAML::NodeType::Scalar:
        out.kind = YamlNode::Kind::kScalar;
        out.text = in.Scalar();
        out.plain = in.Tag() == "?";  // "!" for quoted scalars, a URI for !!tags
        break;
      case YAML::NodeType::Sequence:
        out.kind = YamlNode::Kind::kSequence;
        ConvertSequence(in, path, out);
        break;
      case YAML::NodeType::Map:
        out.kind = YamlNode::Kind::kMapping;
        ConvertMapping(in, path, out);
        break;
      default:  // Null, Undefined: an empty value points at its key
        out.kind = YamlNode::Kind::kNull;
        if (out.key_mark.line > 0) out.mark = out.key_mark;
        break;
    }
    if (out.key_mark.line == 0) out.key_mark = out.mark;
  }

 private:
  void ConvertSequence(const YAML::Node& in, const std::string& path, YamlNode& out) {
    for (const YAML::Node& item : in) {
      YamlNode& child = out.children.emplace_back();
      Convert(item, IndexPath(path, out.children.size() - 1), child);
    }
  }

  void ConvertMapping(const YAML::Node& in, const std::string& path, YamlNode& out) {
    std::unordered_map<std::string, YamlMark> seen;
    // Range-for keeps yaml-cpp's temporary pair alive for the whole body;
    // `const Node& key = it->first` would dangle after its statement.
    for (const auto& entry : in) {
      const YAML::Node& key = entry.first;
      YamlMark key_mark = ToMark(key.Mark());
      if (!key.IsScalar()) {
        diag_.Error(key_mark, path, "a mapping key must be a plain word; found a complex key");
        continue;
      }
      std::string child_path = ChildPath(path, key.Scalar());
      auto [first, inserted] = seen.emplace(key.Scalar(), key_mark);
      if (!inserted) {
        diag_.Error(key_mark, child_path,
                    "duplicate key (first at line " + std::to_string(first->second.line) +
                        "); a repeated key would silently replace the first, write it once");
        continue;
      }
      YamlNode& child = out.children.emplace_back();
      child.key = key.Scalar();
      child.key_mark = key_mark;
      Convert(entry.second, child_path, child);
    }
  }

  Diagnostics& diag_;
  size_t count_ = 0;
};

std::optional<YamlNode> ConvertDocuments(const std::vector<YAML::Node>& docs, Diagnostics& diag) {
  YamlNode root;
  root.mark = root.key_mark = YamlMark{1, 1};
  if (docs.empty()) return root;
  if (docs.size() > 1) {
    diag.Error(ToMark(docs[1].Mark()), "",
               "a second YAML document (after ---); the config must be one document");
    return std::nullopt;
  }
  Converter converter(diag);
  try {
    converter.Convert(docs[0], "", root);
  } catch (const TooManyNodes&) {
    diag.Error(YamlMark{1, 1}, "",
               "more than " + std::to_string(kMaxYamlNodes) +
                   " YAML nodes once aliases are expanded; a config is much smaller");
    return std::nullopt;
  }
  if (root.mark.line == 0) root.mark = root.key_mark = YamlMark{1, 1};
  return root;
}

}  // namespace

std::optional<YamlNode> ParseYaml(std::string_view text, Diagnostics& diag) {
  try {
    return ConvertDocuments(YAML::LoadAll(std::string(text)), diag);
  } catch (const YAML::Exception& e) {
    YamlMark mark = ToMark(e.mark);
    if (mark.line == 0) mark = YamlMark{1, 1};
    diag.Error(mark, "", "YAML syntax error: " + e.msg);
  } catch (const std::exception& e) {
    diag.Error(YamlMark{1, 1}, "", std::string("cannot parse the YAML: ") + e.what());
  }
  return std::nullopt;
}

}  // namespace rcw
