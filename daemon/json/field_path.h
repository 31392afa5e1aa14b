// Where a value sits in a decoded body ("jobs[17].executionInfo"), and the
// kBadResponse that names it. Internal to json/; spelled out only on error,
// so the happy path of a decoder builds no strings.
#pragma once

#include <string_view>

#include "base/status.h"

namespace rcw {

struct FieldPath {
  std::string_view root;  // "jobs", "job", "_links", or "" for the body itself
  long index = -1;        // array index under root, -1 for none
  std::string_view sub;   // "" or a nested object, e.g. "executionInfo"
};

// kBadResponse "<root>[<index>].<sub>.<field>: <what>" (empty parts left out).
Status BadField(const FieldPath& where, std::string_view field, std::string_view what);

}  // namespace rcw
