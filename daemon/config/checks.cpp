#include "config/checks.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "config/suggest.h"

namespace rcw {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kBaseUrlHint =
    "use the v2 API root, like https://api.bentley.com/reality-conversion";

std::string Quote(std::string_view s) { return "\"" + std::string(s.substr(0, 200)) + "\""; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool ValidPort(std::string_view port) {
  if (port.empty() || port.size() > 5) return false;
  int v = 0;
  for (char c : port) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    v = v * 10 + (c - '0');
  }
  return v >= 1 && v <= 65535;
}

bool ValidHostName(std::string_view host) {
  if (host.empty()) return false;
  for (char c : host) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_')
      return false;
  }
  return true;
}

// "[::1]:80", "host:80", "host": checks the host and the optional port.
bool ValidAuthority(std::string_view authority, bool port_required) {
  std::string_view host = authority;
  std::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (char c : authority.substr(1, close - 1)) {
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
    }
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty() && rest[0] != ':') return false;
    has_port = !rest.empty();
    if (has_port) port = rest.substr(1);
  } else {
    size_t colon = authority.rfind(':');
    has_port = colon != std::string_view::npos;
    if (has_port) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
    if (!ValidHostName(host)) return false;
  }
  if (!has_port) return !port_required;
  return ValidPort(port);
}

struct UrlParts {
  bool https = false;
  std::string_view host;  // without brackets or port
  std::string_view path;  // what follows the authority
};

// "[::1]:80" -> "::1", "host:80" -> "host".
std::string_view HostOf(std::string_view authority) {
  if (authority.starts_with('[')) return authority.substr(1, authority.find(']') - 1);
  return authority.substr(0, authority.rfind(':'));
}

// Checks scheme and authority of an http(s) URL; fills `parts`.
std::string CheckUrlStart(std::string_view url, std::string_view hint, UrlParts& parts) {
  std::string lower = Lower(url.substr(0, 8));
  size_t scheme = lower.starts_with("https://") ? 8 : lower.starts_with("http://") ? 7 : 0;
  if (scheme == 0) return Quote(url) + " is not an http or https URL (" + std::string(hint) + ")";
  for (char c : url) {
    if (std::isspace(static_cast<unsigned char>(c)) ||
        std::iscntrl(static_cast<unsigned char>(c))) {
      return Quote(url) + " contains white space (" + std::string(hint) + ")";
    }
  }
  std::string_view rest = url.substr(scheme);
  size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  if (authority.find('@') != std::string_view::npos) {
    return "user info in the URL is refused (" + std::string(hint) + ")";
  }
  if (!ValidAuthority(authority, false)) {
    return Quote(url) + " has no valid host[:port] (" + std::string(hint) + ")";
  }
  parts.https = scheme == 8;
  parts.host = HostOf(authority);
  parts.path = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  return "";
}

// localhost, 127.0.0.0/8 or ::1 (in any spelling inet_pton accepts).
bool IsLoopbackHost(std::string_view host) {
  if (Lower(host) == "localhost") return true;
  std::string text(host);
  unsigned char addr[16] = {};
  if (inet_pton(AF_INET, text.c_str(), addr) == 1) return addr[0] == 127;
  if (inet_pton(AF_INET6, text.c_str(), addr) != 1) return false;
  static constexpr unsigned char kLoopback6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return std::memcmp(addr, kLoopback6, sizeof addr) == 0;
}

// http:// sends `what` in clear text; only a loopback host (tests, a local
// simulator or proxy) keeps it on this machine.
std::string CheckTransport(std::string_view url, const UrlParts& parts, std::string_view what) {
  if (parts.https || IsLoopbackHost(parts.host)) return "";
  return Quote(url) + " uses http://, so " + std::string(what) +
         " would travel in clear text (use https://; http:// is accepted only for loopback "
         "hosts: localhost, 127.0.0.0/8, [::1])";
}

bool ValidZoneChars(std::string_view name) {
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '/' && c != '_' && c != '-' &&
        c != '+') {
      return false;
    }
  }
  return true;
}

bool IsTzifFile(const fs::path& file) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return false;
  std::ifstream in(file, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::memcmp(magic, "TZif", 4) == 0;
}

// The zone most likely meant ("europe/paris" -> "Europe/Paris"), matching
// each path component against the directory's entries.
std::optional<std::string> SuggestZone(std::string_view name, const fs::path& tzdir) {
  fs::path found;
  for (const fs::path& part : fs::path(name)) {
    std::error_code ec;
    std::vector<std::string> entries;
    for (fs::directory_iterator it(tzdir / found, ec), end; !ec && it != end; it.increment(ec)) {
      entries.push_back(it->path().filename().string());
    }
    std::vector<std::string_view> views(entries.begin(), entries.end());
    std::optional<std::string> s = Suggest(part.string(), views);
    if (!s && std::find(views.begin(), views.end(), part.string()) == views.end()) {
      return std::nullopt;
    }
    found /= s ? *s : part.string();
  }
  return IsTzifFile(tzdir / found) ? std::optional(found.string()) : std::nullopt;
}

}  // namespace

std::string CheckBaseUrl(std::string& url) {
  UrlParts parts;
  std::string error = CheckUrlStart(url, kBaseUrlHint, parts);
  if (!error.empty()) return error;
  if (parts.path.find_first_of("?#") != std::string_view::npos) {
    return Quote(url) + " has a query or fragment (" + std::string(kBaseUrlHint) + ")";
  }
  error = CheckTransport(url, parts, "the bearer token");
  if (!error.empty()) return error;
  while (url.ends_with('/')) url.pop_back();
  if (Lower(url).ends_with("/realityconversion")) {
    return "this is the v1 Reality Conversion API (DELETE deletes jobs there); "
           "use the v2 API, .../reality-conversion";
  }
  return "";
}

std::string CheckAlertmanagerUrl(std::string& url) {
  static constexpr std::string_view kHint = "use e.g. http://127.0.0.1:9093";
  UrlParts parts;
  std::string error = CheckUrlStart(url, kHint, parts);
  if (!error.empty()) return error;
  if (parts.path.find_first_of("?#") != std::string_view::npos) {
    return Quote(url) + " has a query or fragment (" + std::string(kHint) + ")";
  }
  while (url.ends_with('/')) url.pop_back();
  if (url.ends_with("/api/v2/alerts")) {
    return Quote(url) + " is the alerts endpoint; give the Alertmanager's base URL (" +
           std::string(kHint) + ")";
  }
  return "";
}

std::string CheckLabelName(std::string_view name) {
  bool valid = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0]));
  for (char c : name) {
    valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '_') &&
            static_cast<unsigned char>(c) < 0x80;
  }
  if (valid) return "";
  return Quote(name) + " is not a label name (use [a-zA-Z_][a-zA-Z0-9_]*)";
}

std::string CheckTokenUrl(std::string_view url) {
  UrlParts parts;
  std::string error = CheckUrlStart(url, "use e.g. https://ims.bentley.com/connect/token", parts);
  return error.empty() ? CheckTransport(url, parts, "the client secret") : error;
}

std::string CheckListen(std::string_view listen) {
  // Port 0 asks the kernel for a free port (tests, several instances).
  std::string probe(listen);
  if (probe.size() > 2 && probe.ends_with(":0")) probe.back() = '1';
  if (ValidAuthority(probe, true)) return "";
  return Quote(listen) + " is not host:port with a port 0..65535 " +
         "(use e.g. 127.0.0.1:9877, 0.0.0.0:9877 or [::1]:9877)";
}

std::string CheckTimezone(std::string_view name, const std::string& tzdir) {
  if (name == "UTC") return "";
  const std::string hint = " (use an IANA name like Europe/Paris, America/New_York or UTC)";
  if (name.empty() || name.starts_with('/') || name.find("..") != std::string_view::npos ||
      !ValidZoneChars(name)) {
    return Quote(name) + " is not a time zone name" + hint;
  }
  if (IsTzifFile(fs::path(tzdir) / name)) return "";
  std::string message = Quote(name) + " is not a time zone in " + tzdir + hint;
  if (auto s = SuggestZone(name, tzdir)) message += "; did you mean `" + *s + "`?";
  return message;
}

std::string CheckName(std::string_view name) {
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') {
      return Quote(name) +
             " is not a valid name (use letters, digits, _, . and -; "
             "names become metric labels)";
    }
  }
  return name.empty() ? "is empty (use letters, digits, _, . and -)" : "";
}

std::optional<Regex> CompileRegex(const std::string& pattern, std::string& error) {
  Result<Regex> re = Regex::Compile(pattern);
  if (re.ok()) return std::move(*re);
  error = Quote(pattern) + " is not a valid regular expression: " + re.status().message() +
          " (use RE2 syntax, as in Prometheus: no lookaround or backreferences)";
  return std::nullopt;
}

std::string ResolvePath(const std::string& base_dir, const std::string& path) {
  fs::path p(path);
  if (p.is_relative()) p = fs::path(base_dir.empty() ? "." : base_dir) / p;
  std::error_code ec;
  fs::path abs = fs::absolute(p, ec);
  return (ec ? p : abs).lexically_normal().string();
}

std::string CheckReadableFile(const std::string& path) {
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return "cannot read " + Quote(path) + ": no such file";
  if (!fs::is_regular_file(st)) return "cannot read " + Quote(path) + ": not a regular file";
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return "cannot read " + Quote(path) + ": " + std::strerror(errno);
  std::fclose(f);
  return "";
}

}  // namespace rcw
