// Finding the OAuth2 client secret. Lookup order:
//   1. auth.client_secret_file (relative: to the config file's directory);
//   2. $CREDENTIALS_DIRECTORY/client-secret (systemd LoadCredential=);
//   3. the environment variable RC_WATCHDOG_CLIENT_SECRET.
// A step that is configured but fails (an unreadable file, an empty secret)
// is an error; the lookup does not fall through to the next one. Trailing
// white space (the newline of `echo secret > file`) is trimmed. Messages name
// files and variables, never the secret.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "config/config.h"
#include "config/diagnostics.h"
#include "config/yaml_node.h"

namespace rcw {

inline constexpr char kSecretEnvVar[] = "RC_WATCHDOG_CLIENT_SECRET";
inline constexpr char kCredentialName[] = "client-secret";

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

struct SecretSpec {
  std::optional<std::string> file;  // client_secret_file, already resolved
  YamlMark file_mark;               // its value's position
  YamlMark auth_mark;               // the `auth:` key, for "no secret anywhere"
};

// Sets auth.client_secret and auth.secret_source ("file /etc/rc-watchdog/
// client-secret", "systemd credential client-secret", "environment
// RC_WATCHDOG_CLIENT_SECRET"), or adds an error.
void ResolveClientSecret(const SecretSpec& spec, const EnvLookup& getenv, AuthConfig& auth,
                         Diagnostics& diag);

}  // namespace rcw
