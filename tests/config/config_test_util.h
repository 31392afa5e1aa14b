// Helpers for the config loader tests: a minimal valid config, an injected
// environment, temporary directories and error matching.
#pragma once

#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "config/loader.h"

namespace rcw::testing {

// Nine lines; a test appends keys at line 10.
inline constexpr char kMinimal[] =
    "api:\n"
    "  base_url: https://api.bentley.com/reality-conversion\n"
    "auth:\n"
    "  token_url: https://ims.bentley.com/connect/token\n"
    "  client_id: service-abc123\n"
    "policies:\n"
    "  - name: p1\n"
    "    limits:\n"
    "      max_runtime: 2h\n";

// The same without policies (five lines), for tests that write their own.
inline constexpr char kServiceOnly[] =
    "api:\n"
    "  base_url: https://api.bentley.com/reality-conversion\n"
    "auth:\n"
    "  token_url: https://ims.bentley.com/connect/token\n"
    "  client_id: service-abc123\n";

inline LoadOptions WithEnv(std::map<std::string, std::string> env) {
  LoadOptions o;
  o.getenv = [env](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  return o;
}

// An environment holding only RC_WATCHDOG_CLIENT_SECRET.
inline LoadOptions SecretEnv() { return WithEnv({{"RC_WATCHDOG_CLIENT_SECRET", "s3cret"}}); }

inline LoadResult Load(const std::string& yaml, const LoadOptions& o = SecretEnv()) {
  return LoadConfigText(yaml, "config.yaml", o);
}

inline std::string AllErrors(const LoadResult& r) {
  std::string out;
  for (const ConfigError& e : r.errors) out += e.ToString() + "\n";
  return out;
}

// REQUIREs exactly one error, at `position` ("LINE:COL"), whose text
// contains `path: ` and `message`.
inline void CheckOneError(const std::string& yaml, const std::string& position,
                          const std::string& path, const std::string& message) {
  LoadResult r = Load(yaml);
  INFO(yaml);
  INFO(AllErrors(r));
  REQUIRE(r.errors.size() == 1);
  CHECK_FALSE(r.config.has_value());
  std::string text = r.errors[0].ToString();
  CHECK(text.rfind("config.yaml:" + position + ": ", 0) == 0);
  CHECK(r.errors[0].path == path);
  CHECK(text.find(message) != std::string::npos);
}

inline void CheckLoads(const std::string& yaml, const LoadOptions& o = SecretEnv()) {
  LoadResult r = Load(yaml, o);
  INFO(yaml);
  INFO(AllErrors(r));
  REQUIRE(r.ok());
}

// A fresh directory under the system temp dir, removed at scope exit.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("rcw-config-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string path() const { return path_.string(); }
  std::string Write(const std::string& name, const std::string& content) const {
    std::filesystem::path p = path_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }

 private:
  std::filesystem::path path_;
};

}  // namespace rcw::testing
