// PaddedJson: the padding contract of decode.h, kept apart from the parser.
#include <cstring>

#include "json/decode.h"

namespace rcw {

PaddedJson PaddedJson::Copy(std::string_view text) {
  PaddedJson out;
  // make_unique<char[]> value-initialises: the padding bytes are zeros.
  out.owned_ = std::make_unique<char[]>(text.size() + kJsonPadding);
  if (!text.empty()) std::memcpy(out.owned_.get(), text.data(), text.size());
  out.view_ = std::string_view(out.owned_.get(), text.size());
  return out;
}

PaddedJson PaddedJson::Borrow(const std::string& text) {
  if (text.capacity() < text.size() + kJsonPadding) return Copy(text);
  PaddedJson out;
  out.view_ = text;
  return out;
}

}  // namespace rcw
