// Section: reading one YAML mapping of the schema. It knows the mapping's
// accepted keys, reports every other key at once (with "did you mean"), and
// reads typed values into Config fields, leaving the default in place when a
// key is absent or wrong (the error is recorded either way).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "config/diagnostics.h"
#include "config/scalars.h"
#include "config/yaml_node.h"

namespace rcw {

// An unknown key that is known one level down: `max_runtime` written directly
// in a policy "belongs under `limits:`".
struct KeyHint {
  std::string_view key;
  std::string_view section;
};

class Section {
 public:
  // `node` is the mapping at `path`; nullptr or an empty value reads as an
  // empty mapping. Anything else is reported and reads as empty too (and then
  // Require stays quiet: one error is enough). `where` is the position for
  // errors about the mapping as a whole when `node` is nullptr.
  Section(const YamlNode* node, std::string path, Diagnostics& diag, YamlMark where,
          std::span<const std::string_view> keys, std::span<const KeyHint> hints = {});

  // The value of `key` (one of `keys`), or nullptr when absent.
  const YamlNode* Get(std::string_view key) const;
  // Like Get, but an absent key is an error "required key is missing".
  const YamlNode* Require(std::string_view key, std::string_view accepted = "");

  std::string Path(std::string_view key) const { return ChildPath(path_, std::string(key)); }
  const std::string& path() const { return path_; }
  // The position of the mapping's key (or of the mapping itself).
  YamlMark mark() const { return mark_; }
  Diagnostics& diag() const { return diag_; }

  // Typed reads: when `key` is present and valid, store it and return true.
  bool String(std::string_view key, std::string& out);
  bool Int(std::string_view key, int& out, long long min, long long max);
  bool Number(std::string_view key, double& out, NumberRange range);
  bool Number(std::string_view key, std::optional<double>& out, NumberRange range);
  bool Bool(std::string_view key, bool& out);
  bool Duration(std::string_view key, Seconds& out, DurationRange range);
  // The index of the value in `choices`.
  std::optional<size_t> Choice(std::string_view key, std::span<const std::string_view> choices);

 private:
  void CheckKeys(std::span<const KeyHint> hints);

  const YamlNode* node_;  // a mapping, or nullptr
  std::string path_;
  Diagnostics& diag_;
  YamlMark mark_;
  std::span<const std::string_view> keys_;
};

// The mapping under `key` of `parent`. When it is absent, Require inside it
// stays quiet: the parent reports a missing section if it is required.
Section SubSection(const Section& parent, std::string_view key,
                   std::span<const std::string_view> keys, std::span<const KeyHint> hints = {});

}  // namespace rcw
