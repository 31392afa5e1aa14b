#include "api/url.h"

#include <cctype>
#include <charconv>

namespace rcw {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";

void AppendEscaped(std::string& out, unsigned char c) {
  out += '%';
  out += kHex[c >> 4];
  out += kHex[c & 0xF];
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "host" or "host:port" or "[v6]:port" -> host and port; false when malformed.
bool SplitHostPort(std::string_view authority, int default_port, std::string& host, int& port) {
  size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']', colon) != std::string_view::npos) {
    colon = std::string_view::npos;  // the colon is inside an IPv6 literal
  }
  port = default_port;
  if (colon != std::string_view::npos) {
    std::string_view digits = authority.substr(colon + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || port <= 0 ||
        port > 65535) {
      return false;
    }
    authority = authority.substr(0, colon);
  }
  host = Lower(authority);
  return !host.empty();
}

}  // namespace

std::string PercentEncode(std::string_view text) {
  std::string out;
  out.reserve(text.size() * 3 / 2);
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      AppendEscaped(out, c);
    }
  }
  return out;
}

std::string EncodeUnsafeUrlBytes(std::string_view url) {
  constexpr std::string_view kUnsafe = " \"<>\\^`{|}";
  std::string out;
  out.reserve(url.size());
  for (char ch : url) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7F || kUnsafe.find(ch) != std::string_view::npos) {
      AppendEscaped(out, c);
    } else {
      out += ch;
    }
  }
  return out;
}

std::string Origin::ToString() const { return scheme + "://" + host + ":" + std::to_string(port); }

std::optional<Origin> ParseOrigin(std::string_view url, std::string_view* path) {
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  Origin origin;
  origin.scheme = Lower(url.substr(0, sep));
  int default_port = origin.scheme == "https" ? 443 : origin.scheme == "http" ? 80 : 0;
  if (default_port == 0) return std::nullopt;
  std::string_view rest = url.substr(sep + 3);
  size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  // Only plain host names, IPv4 and bracketed IPv6: anything else ('@' for
  // user info, a backslash, '%') is a way to make two parsers disagree on the host.
  for (char c : authority) {
    if (!std::isalnum(static_cast<unsigned char>(c)) &&
        std::string_view(".-_:[]").find(c) == std::string_view::npos) {
      return std::nullopt;
    }
  }
  if (!SplitHostPort(authority, default_port, origin.host, origin.port)) return std::nullopt;
  if (path) *path = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  return origin;
}

}  // namespace rcw
