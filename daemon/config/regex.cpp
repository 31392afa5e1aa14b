// The one file that includes RE2 (style.md: each third-party library enters in
// exactly one .cpp).
#include "config/regex.h"

#include <re2/re2.h>

namespace rcw {

class CompiledRegex {
 public:
  explicit CompiledRegex(const std::string& pattern) : re_(pattern, Options()) {}
  const RE2& re() const { return re_; }

 private:
  static RE2::Options Options() {
    RE2::Options options;
    // A bad pattern is reported as a config error with file:line:col; RE2's
    // own logging to stderr would only repeat it, without the position.
    options.set_log_errors(false);
    // UTF-8, not Latin-1: job names are JSON strings, which the decoder has
    // validated as UTF-8, and the patterns come from a YAML file, also UTF-8.
    // So `.` and `[^-]` consume a whole character ("é" is one, not two), and
    // a non-ASCII literal in a pattern matches the same bytes in a name.
    options.set_encoding(RE2::Options::EncodingUTF8);
    return options;
  }

  RE2 re_;
};

Result<Regex> Regex::Compile(std::string pattern) {
  auto compiled = std::make_shared<const CompiledRegex>(pattern);
  if (!compiled->re().ok()) return Status(StatusCode::kInvalidConfig, compiled->re().error());
  return Regex{std::move(pattern), std::move(compiled)};
}

bool Regex::Search(std::string_view text) const {
  // PartialMatch over the whole view: RE2 falls back from its DFA to the NFA
  // when the DFA's memory budget runs out, which stays linear in the text.
  return RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), compiled->re());
}

}  // namespace rcw
