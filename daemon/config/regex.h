// Regex: a compiled regular expression in RE2 syntax (the syntax of Prometheus
// and Alertmanager) with the text it was compiled from. Policies and budgets
// apply it to job names, which anyone who can create a job controls: RE2 runs
// in time linear in the name and in bounded memory, whatever the name's length
// (std::regex recursed over its subject and overflowed the stack on long
// names). RE2 itself stays in regex.cpp; this header shows none of its types.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace rcw {

class CompiledRegex;  // regex.cpp: the RE2 program

struct Regex {
  std::string pattern;
  std::shared_ptr<const CompiledRegex> compiled;  // never null in a loaded Config

  // Compiles `pattern`. kInvalidConfig when RE2 refuses it (lookaround such as
  // (?=, backreferences such as \1, a syntax error, a program too large); the
  // message is RE2's reason, e.g. "invalid perl operator: (?=".
  static Result<Regex> Compile(std::string pattern);

  // True when the pattern matches somewhere in `text` (unanchored: ^ and $
  // anchor at the ends of the text). Always searches the whole text, never a
  // truncated copy, so "-keep$" holds on a name of any length.
  // REQUIRES: compiled is not null.
  bool Search(std::string_view text) const;
};

}  // namespace rcw
