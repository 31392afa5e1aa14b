// Validation of single values whose rules go beyond their YAML type: URLs,
// listen addresses, time zones, names, regexes and files. Each returns an
// error message ("what is wrong (use what is accepted)"), empty when valid.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"

namespace rcw {

// The v2 Reality Conversion API root: https (http only for a loopback host:
// localhost, 127.0.0.0/8, ::1, since the bearer token would travel in clear
// text), a host, no user info, query or fragment, not the v1 path
// (.../realityconversion, where DELETE deletes jobs). Strips trailing slashes
// from `url`.
std::string CheckBaseUrl(std::string& url);

// auth.token_url: an https URL with a host; http only for a loopback host, as
// for CheckBaseUrl (the client secret would travel in clear text).
std::string CheckTokenUrl(std::string_view url);

// notify.alertmanager.urls[]: an http(s) base URL with a host, no user info
// (it would be logged), query or fragment. http:// is accepted for any host:
// alerts carry no credential. Strips trailing slashes from `url`.
std::string CheckAlertmanagerUrl(std::string& url);

// An Alertmanager (Prometheus) label name: [a-zA-Z_][a-zA-Z0-9_]*.
std::string CheckLabelName(std::string_view name);

// host:port or [ipv6]:port with port 1..65535 (metrics.listen).
std::string CheckListen(std::string_view listen);

// An IANA zone name with a TZif file under `tzdir` (the TZDIR environment
// variable, else /usr/share/zoneinfo). "UTC" is always valid. Names with
// "..", a leading "/" or odd characters are refused before touching the disk.
std::string CheckTimezone(std::string_view name, const std::string& tzdir);

// Policy and budget names become metric labels: [A-Za-z0-9_.-]+.
std::string CheckName(std::string_view name);

// Compiles an RE2 regex; sets `error` (quoting the pattern and RE2's reason) on failure.
std::optional<Regex> CompileRegex(const std::string& pattern, std::string& error);

// `path` made absolute against `base_dir` (the config file's directory).
std::string ResolvePath(const std::string& base_dir, const std::string& path);

// A regular file this process can open for reading. The message names the
// path, never the content.
std::string CheckReadableFile(const std::string& path);

}  // namespace rcw
