// Client secret lookup: file, then systemd credential, then environment.
#include "config/secrets.h"

#include <catch2/catch.hpp>

#include "config/config_test_util.h"

using namespace rcw;
using namespace rcw::testing;

namespace {

// kServiceOnly with client_secret_file added to auth (line 6) and a policy.
std::string ConfigWithFile(const std::string& file) {
  return std::string(kServiceOnly) + "  client_secret_file: " + file +
         "\npolicies: [{name: p, limits: {max_runtime: 1h}}]\n";
}

const char kPolicy[] = "policies: [{name: p, limits: {max_runtime: 1h}}]\n";

}  // namespace

TEST_CASE("client_secret_file wins over the credential and the environment") {
  TempDir dir;
  dir.Write("secret.txt", "file-secret \n\n");
  dir.Write("creds/client-secret", "cred-secret\n");
  std::string config = dir.Write("config.yaml", ConfigWithFile("secret.txt"));
  LoadResult r = LoadConfigFile(config, WithEnv({{"CREDENTIALS_DIRECTORY", dir.path() + "/creds"},
                                                 {"RC_WATCHDOG_CLIENT_SECRET", "env-secret"}}));
  INFO(AllErrors(r));
  REQUIRE(r.ok());
  CHECK(r.config->auth.client_secret == "file-secret");
  CHECK(r.config->auth.secret_source == "file " + dir.path() + "/secret.txt");
  CHECK(r.config->path == config);
}

TEST_CASE("an absolute client_secret_file is used as is") {
  TempDir dir;
  std::string secret = dir.Write("abs/secret", "abs-secret");
  LoadResult r = Load(ConfigWithFile(secret), WithEnv({}));
  INFO(AllErrors(r));
  REQUIRE(r.ok());
  CHECK(r.config->auth.client_secret == "abs-secret");
  CHECK(r.config->auth.secret_source == "file " + secret);
}

TEST_CASE("LoadConfigText resolves relative paths against display_name's directory") {
  TempDir dir;
  dir.Write("sub/client-secret", "rel-secret\n");
  LoadResult r =
      LoadConfigText(ConfigWithFile("client-secret"), dir.path() + "/sub/x.yaml", WithEnv({}));
  INFO(AllErrors(r));
  REQUIRE(r.ok());
  CHECK(r.config->auth.client_secret == "rel-secret");
}

TEST_CASE("the systemd credential wins over the environment") {
  TempDir dir;
  dir.Write("client-secret", "cred-secret\r\n");
  LoadResult r = Load(std::string(kServiceOnly) + kPolicy,
                      WithEnv({{"CREDENTIALS_DIRECTORY", dir.path()},
                               {"RC_WATCHDOG_CLIENT_SECRET", "env-secret"}}));
  INFO(AllErrors(r));
  REQUIRE(r.ok());
  CHECK(r.config->auth.client_secret == "cred-secret");
  CHECK(r.config->auth.secret_source == "systemd credential client-secret");
}

TEST_CASE("a credentials directory without client-secret falls through to the environment") {
  TempDir dir;
  dir.Write("other", "x");
  LoadResult r = Load(std::string(kServiceOnly) + kPolicy,
                      WithEnv({{"CREDENTIALS_DIRECTORY", dir.path()},
                               {"RC_WATCHDOG_CLIENT_SECRET", "env-secret\n"}}));
  INFO(AllErrors(r));
  REQUIRE(r.ok());
  CHECK(r.config->auth.client_secret == "env-secret");
  CHECK(r.config->auth.secret_source == "environment RC_WATCHDOG_CLIENT_SECRET");
}

TEST_CASE("no secret anywhere is one error at the auth key") {
  LoadResult r = Load(std::string(kServiceOnly) + kPolicy, WithEnv({}));
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].ToString().rfind("config.yaml:3:1: auth: no client secret found", 0) == 0);
  CHECK(r.errors[0].message.find("RC_WATCHDOG_CLIENT_SECRET") != std::string::npos);
}

TEST_CASE("a missing or unreadable secret file is an error naming the file, with no fallback") {
  TempDir dir;
  dir.Write("a-directory/x", "");
  for (std::string file : {std::string("nope.txt"), std::string("a-directory")}) {
    std::string config = dir.Write("config.yaml", ConfigWithFile(file));
    LoadResult r = LoadConfigFile(config, SecretEnv());
    INFO(AllErrors(r));
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].line == 6);
    CHECK(r.errors[0].column == 23);
    CHECK(r.errors[0].path == "auth.client_secret_file");
    CHECK(r.errors[0].message.find("cannot read \"" + dir.path() + "/" + file + "\"") !=
          std::string::npos);
  }
}

TEST_CASE("empty secrets are errors") {
  TempDir dir;
  dir.Write("empty", " \n\n");
  dir.Write("creds/client-secret", "\n");
  LoadResult file = Load(ConfigWithFile(dir.path() + "/empty"), WithEnv({}));
  REQUIRE(file.errors.size() == 1);
  CHECK(file.errors[0].message.find("is empty") != std::string::npos);
  LoadResult cred = Load(std::string(kServiceOnly) + kPolicy,
                         WithEnv({{"CREDENTIALS_DIRECTORY", dir.path() + "/creds"},
                                  {"RC_WATCHDOG_CLIENT_SECRET", "env-secret"}}));
  REQUIRE(cred.errors.size() == 1);
  CHECK(cred.errors[0].message.find("systemd credential") != std::string::npos);
  LoadResult env =
      Load(std::string(kServiceOnly) + kPolicy, WithEnv({{"RC_WATCHDOG_CLIENT_SECRET", ""}}));
  REQUIRE(env.errors.size() == 1);
  CHECK(env.errors[0].ToString() ==
        "config.yaml:3:1: auth: the environment variable RC_WATCHDOG_CLIENT_SECRET is empty");
}

TEST_CASE("a secret file of several lines is refused without showing its content") {
  TempDir dir;
  std::string file = dir.Write("pem", "-----BEGIN KEY-----\nTOPSECRETBYTES\n-----END KEY-----\n");
  LoadResult r = Load(ConfigWithFile(file), WithEnv({}));
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].message.find("more than one line") != std::string::npos);
  CHECK(AllErrors(r).find("TOPSECRET") == std::string::npos);
  CHECK(AllErrors(r).find("BEGIN") == std::string::npos);
}

TEST_CASE("an inline client_secret is refused and never echoed") {
  LoadResult r = Load(std::string(kServiceOnly) + "  client_secret: hunter2-value\n" + kPolicy);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].ToString() ==
        "config.yaml:6:3: auth.client_secret: inline secrets are refused; use "
        "client_secret_file, a systemd credential or RC_WATCHDOG_CLIENT_SECRET");
  CHECK(AllErrors(r).find("hunter2") == std::string::npos);
}

TEST_CASE("resolve_secrets=false reads no secret at all") {
  LoadOptions offline = WithEnv({{"RC_WATCHDOG_CLIENT_SECRET", "env-secret"}});
  offline.resolve_secrets = false;
  LoadResult r = Load(ConfigWithFile("/nonexistent/secret"), offline);
  INFO(AllErrors(r));
  REQUIRE(r.ok());
  CHECK(r.config->auth.client_secret.empty());
  CHECK(r.config->auth.secret_source == "not read: offline");
  LoadResult none = Load(std::string(kServiceOnly) + kPolicy, [] {
    LoadOptions o = WithEnv({});
    o.resolve_secrets = false;
    return o;
  }());
  CHECK(none.ok());
}
