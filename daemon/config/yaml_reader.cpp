#include "config/yaml_reader.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <exception>
#include <sstream>
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

// Sees where each document and its root node start; ignores the rest.
class DocumentStarts final : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;
  std::vector<YAML::Mark> roots;

  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { Node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { Node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    Node(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Node(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Node(mark);
  }
  void OnMapEnd() override {}

 private:
  void Node(const YAML::Mark& mark) {
    if (roots.size() < starts.size()) roots.push_back(mark);
  }
};

// yaml-cpp 0.7's LoadAll never returns on a ',' at the top level (", a"): the
// parser reports an empty document there forever without consuming the ','
// and LoadAll collects them until memory runs out (found by
// fuzz/config_fuzz.cpp). So the documents are counted first, at most two; a
// document starting where the previous one did is a syntax error. Returns the
// documents (none for an empty text, else one), or nullopt after an error.
std::optional<std::vector<YAML::Node>> LoadOneDocument(const std::string& text,
                                                       Diagnostics& diag) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts handler;
  while (handler.starts.size() < 2 && parser.HandleNextDocument(handler)) {
  }
  if (handler.starts.empty()) return std::vector<YAML::Node>{};
  if (handler.starts.size() == 1) return std::vector<YAML::Node>{YAML::Load(text)};
  const YAML::Mark& second = handler.starts[1];
  if (second.pos != handler.starts[0].pos) {
    YamlMark mark = ToMark(handler.roots.size() > 1 ? handler.roots[1] : second);
    if (mark.line == 0) mark = YamlMark{1, 1};
    diag.Error(mark, "", "a second YAML document (after ---); the config must be one document");
  } else {
    YamlMark mark = ToMark(second);
    if (mark.line == 0) mark = YamlMark{1, 1};
    size_t pos = static_cast<size_t>(std::max(second.pos, 0));
    diag.Error(mark, "",
               "YAML syntax error: unexpected " +
                   (pos < text.size() ? "\"" + text.substr(pos, 1) + "\"" : std::string("end")));
  }
  return std::nullopt;
}

}  // namespace

std::optional<YamlNode> ParseYaml(std::string_view text, Diagnostics& diag) {
  try {
    std::optional<std::vector<YAML::Node>> docs = LoadOneDocument(std::string(text), diag);
    if (!docs) return std::nullopt;
    return ConvertDocuments(*docs, diag);
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
