// A YAML document as plain values. yaml_reader.cpp, the one file that sees
// yaml-cpp, builds it; the schema code reads only this.
#pragma once

#include <string>
#include <vector>

namespace rcw {

// 1-based position in the file; line 0 means unknown.
struct YamlMark {
  int line = 0;
  int column = 0;
};

struct YamlNode {
  enum class Kind { kNull, kScalar, kSequence, kMapping };

  Kind kind = Kind::kNull;
  YamlMark mark;                   // where the node starts (for an empty value: its key)
  std::string key;                 // the key, when this node is the value of a mapping entry
  YamlMark key_mark;               // the key's position, else the same as mark
  std::string text;                // kScalar: the scalar's text
  bool plain = false;              // kScalar written without quotes or tag, so YAML gives
                                   // it a type (number, boolean); "10" and !!str 10 are strings
  std::vector<YamlNode> children;  // kSequence items; kMapping values (with key set)

  bool IsNull() const { return kind == Kind::kNull; }
  bool IsScalar() const { return kind == Kind::kScalar; }
  bool IsSequence() const { return kind == Kind::kSequence; }
  bool IsMapping() const { return kind == Kind::kMapping; }
};

}  // namespace rcw
