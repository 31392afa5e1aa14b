// The little URL handling the API client needs: percent-encoding of query
// values and form fields, and the origin (scheme, host, port) of a URL so
// that the bearer token is only ever sent to the configured host.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace rcw {

// Percent-encodes every byte except the RFC 3986 unreserved characters
// A-Z a-z 0-9 - . _ ~ (so a space becomes %20). Valid both in a URL query
// and in an application/x-www-form-urlencoded body.
std::string PercentEncode(std::string_view text);

// Percent-encodes only the bytes that may not appear in a URL at all
// (controls, space, non-ASCII, " < > \ ^ ` { | }), leaving an already
// encoded URL unchanged. For following server-provided links as they are.
std::string EncodeUnsafeUrlBytes(std::string_view url);

struct Origin {
  std::string scheme;  // "http" or "https", lower case
  std::string host;    // lower case; IPv6 literals keep their brackets
  int port = 0;        // the explicit port, or 80 / 443

  bool operator==(const Origin&) const = default;
  // "https://api.bentley.com:443"
  std::string ToString() const;
};

// The origin of an absolute http(s) URL, and in `path` (when given) what
// follows the authority ("/jobs?x=1", may be empty). nullopt for other
// schemes, an empty host, a bad port, or user info ("user:pw@host": a way to
// disguise the real host).
std::optional<Origin> ParseOrigin(std::string_view url, std::string_view* path = nullptr);

}  // namespace rcw
