#include "json/field_path.h"

#include <string>

namespace rcw {

Status BadField(const FieldPath& where, std::string_view field, std::string_view what) {
  std::string path(where.root);
  if (where.index >= 0) path += "[" + std::to_string(where.index) + "]";
  if (!where.sub.empty()) (path.empty() ? path : path += '.') += where.sub;
  if (!field.empty()) (path.empty() ? path : path += '.') += field;
  return Status(StatusCode::kBadResponse, path + ": " + std::string(what));
}

}  // namespace rcw
