// LoadConfigText (config/loader.h) on any text: never throws or crashes;
// errors are sorted by position and name the file; an accepted config
// re-describes (DescribeConfig) without crash.
//
// No secret is read (resolve_secrets = false) and the environment is not
// consulted: the fuzzer must not depend on, or print, a real secret. The file
// "lives" in a directory that does not exist, so relative paths never resolve
// to real files; absolute ones (ca_file, time zones under /usr/share/zoneinfo)
// are only stat()ed and opened read-only.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "config/loader.h"
#include "fuzz_check.h"

namespace {

constexpr char kDisplayName[] = "/nonexistent-rcw-fuzz/config.yaml";

std::optional<std::string> FakeEnv(const std::string& name) {
  if (name == "TZDIR") return std::string("/usr/share/zoneinfo");
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view yaml(reinterpret_cast<const char*>(data), size);
  rcw::LoadOptions options;
  options.resolve_secrets = false;
  options.getenv = FakeEnv;
  rcw::LoadResult r = rcw::LoadConfigText(yaml, kDisplayName, options);
  RCW_FUZZ_CHECK(r.ok() == r.errors.empty());
  RCW_FUZZ_CHECK(r.config.has_value() == r.errors.empty());
  int line = 0, column = 0;
  for (const rcw::ConfigError& e : r.errors) {
    RCW_FUZZ_CHECK(!e.message.empty());
    RCW_FUZZ_CHECK(e.line >= 0 && e.column >= 0);
    RCW_FUZZ_CHECK(e.line > line || (e.line == line && e.column >= column));
    line = e.line;
    column = e.column;
    RCW_FUZZ_CHECK(e.ToString().starts_with(kDisplayName));
  }
  if (r.config) {
    RCW_FUZZ_CHECK(!r.config->policies.empty() || !r.config->budgets.empty());
    std::vector<std::string> lines = rcw::DescribeConfig(*r.config);
    RCW_FUZZ_CHECK(lines.size() == 1 + r.config->policies.size() + r.config->budgets.size());
  }
  return 0;
}
