#include "config/secrets.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "base/status.h"

namespace rcw {
namespace {

// A secret is a line of text; anything this big is the wrong file.
constexpr size_t kMaxSecretBytes = 64 * 1024;

// Trims trailing white space; refuses an empty secret or one with control
// characters inside (two lines: probably the wrong file). `what` names the
// source in messages.
Result<std::string> CleanSecret(std::string secret, const std::string& what) {
  while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back()))) {
    secret.pop_back();
  }
  if (secret.empty()) return Status(StatusCode::kInvalidConfig, what + " is empty");
  for (char c : secret) {
    if (std::iscntrl(static_cast<unsigned char>(c))) {
      return Status(StatusCode::kInvalidConfig,
                    what + " holds more than one line or control characters (use one line)");
    }
  }
  return secret;
}

Result<std::string> ReadSecretFile(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Status(StatusCode::kPermissionDenied, "cannot read " + what + ": a directory");
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return Status(StatusCode::kPermissionDenied,
                  "cannot read " + what + ": " + std::strerror(errno));
  }
  std::string content(kMaxSecretBytes + 1, '\0');
  size_t n = std::fread(content.data(), 1, content.size(), f);
  bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return Status(StatusCode::kPermissionDenied, "cannot read " + what);
  if (n > kMaxSecretBytes) {
    return Status(StatusCode::kInvalidConfig,
                  what + " is larger than 64 KiB (use a file holding only the secret)");
  }
  content.resize(n);
  return CleanSecret(std::move(content), what);
}

void Store(Result<std::string> secret, std::string source, const YamlMark& mark,
           const std::string& path, AuthConfig& auth, Diagnostics& diag) {
  if (!secret.ok()) {
    diag.Error(mark, path, secret.status().message());
    return;
  }
  auth.client_secret = std::move(secret).value();
  auth.secret_source = std::move(source);
}

}  // namespace

void ResolveClientSecret(const SecretSpec& spec, const EnvLookup& getenv, AuthConfig& auth,
                         Diagnostics& diag) {
  if (spec.file) {
    Store(ReadSecretFile(*spec.file, "\"" + *spec.file + "\""), "file " + *spec.file,
          spec.file_mark, "auth.client_secret_file", auth, diag);
    return;
  }
  if (std::optional<std::string> dir = getenv("CREDENTIALS_DIRECTORY"); dir && !dir->empty()) {
    std::string file = *dir + "/" + kCredentialName;
    std::error_code ec;
    if (std::filesystem::exists(file, ec)) {
      Store(ReadSecretFile(file, "the systemd credential \"" + file + "\""),
            std::string("systemd credential ") + kCredentialName, spec.auth_mark, "auth", auth,
            diag);
      return;
    }
  }
  if (std::optional<std::string> env = getenv(kSecretEnvVar)) {
    Store(CleanSecret(std::move(*env), std::string("the environment variable ") + kSecretEnvVar),
          std::string("environment ") + kSecretEnvVar, spec.auth_mark, "auth", auth, diag);
    return;
  }
  diag.Error(spec.auth_mark, "auth",
             std::string("no client secret found (use client_secret_file, a systemd credential ") +
                 kCredentialName + " via LoadCredential=, or " + kSecretEnvVar + ")");
}

}  // namespace rcw
