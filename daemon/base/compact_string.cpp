#include "base/compact_string.h"

#include <cstring>
#include <ostream>
#include <utility>

namespace rcw {

CompactString::Heap CompactString::heap() const noexcept {
  Heap h;
  std::memcpy(&h, buf_, sizeof(h));
  return h;
}

void CompactString::Init(std::string_view text) {
  if (text.size() <= kInline) {
    if (!text.empty()) std::memcpy(buf_, text.data(), text.size());
    buf_[kTag] = static_cast<char>(text.size());
    return;
  }
  Heap h{new char[text.size()], text.size()};
  std::memcpy(h.data, text.data(), text.size());
  std::memcpy(buf_, &h, sizeof(h));
  buf_[kTag] = static_cast<char>(kHeap);
}

void CompactString::Free() noexcept {
  if (on_heap()) delete[] heap().data;
  buf_[kTag] = 0;
}

CompactString::CompactString(CompactString&& other) noexcept {
  std::memcpy(buf_, other.buf_, sizeof(buf_));
  other.buf_[kTag] = 0;  // `other` no longer owns a heap buffer
}

CompactString& CompactString::operator=(const CompactString& other) {
  if (this != &other) *this = other.view();
  return *this;
}

CompactString& CompactString::operator=(CompactString&& other) noexcept {
  if (this != &other) {
    Free();
    std::memcpy(buf_, other.buf_, sizeof(buf_));
    other.buf_[kTag] = 0;
  }
  return *this;
}

CompactString& CompactString::operator=(std::string_view text) {
  if (!on_heap() && text.size() <= kInline) {  // the decoder's case: inline to inline
    if (!text.empty()) std::memmove(buf_, text.data(), text.size());  // may overlap buf_
    buf_[kTag] = static_cast<char>(text.size());
    return *this;
  }
  // `text` may point into this object's own buffer: build first, then swap in.
  CompactString fresh(text);
  return *this = std::move(fresh);
}

std::ostream& operator<<(std::ostream& out, const CompactString& s) { return out << s.view(); }

std::string operator+(std::string_view a, const CompactString& b) {
  std::string out;
  out.reserve(a.size() + b.size());
  out.append(a).append(b.view());
  return out;
}

std::string operator+(const CompactString& a, std::string_view b) {
  std::string out;
  out.reserve(a.size() + b.size());
  out.append(a.view()).append(b);
  return out;
}

}  // namespace rcw
