// The YAML front end: text -> YamlNode tree. The only part of rc-watchdog that
// includes yaml-cpp; its exceptions end here.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "config/diagnostics.h"
#include "config/yaml_node.h"

namespace rcw {

// Expanding aliases can multiply a small file ("billion laughs"); a config
// never needs more nodes than this.
inline constexpr size_t kMaxYamlNodes = 100000;

// Parses `text`, which must hold at most one YAML document. An empty document
// gives a kNull root at 1:1. On a syntax error, a second document or too many
// nodes, adds one error with its position and returns nullopt. Duplicate keys
// and non-scalar keys are reported and dropped; the tree is still returned, so
// the schema can report its own errors too.
std::optional<YamlNode> ParseYaml(std::string_view text, Diagnostics& diag);

}  // namespace rcw
