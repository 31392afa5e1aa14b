// RareString: text that is almost always empty, in the size of a pointer.
// Job's raw_type and raw_state are set only for a type or state this build
// does not know; as two std::strings they cost 64 bytes in each of the
// 100,000 Jobs of a listing, as two RareStrings 16 (and a heap string only
// when set).
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace rcw {

class RareString {
 public:
  RareString() = default;
  RareString(const RareString& other) { assign(other.view()); }
  RareString& operator=(const RareString& other) {
    if (this != &other) assign(other.view());
    return *this;
  }
  RareString(RareString&&) noexcept = default;
  RareString& operator=(RareString&&) noexcept = default;
  RareString& operator=(std::string_view text) {
    assign(text);
    return *this;
  }

  void assign(std::string_view text) {
    if (text.empty()) {
      text_.reset();
    } else if (text_) {
      text_->assign(text);
    } else {
      text_ = std::make_unique<std::string>(text);
    }
  }
  bool empty() const { return !text_; }
  std::string_view view() const { return text_ ? std::string_view(*text_) : std::string_view(); }
  operator std::string_view() const { return view(); }  // NOLINT: implicit by design

  friend bool operator==(const RareString& a, const RareString& b) { return a.view() == b.view(); }
  friend bool operator==(const RareString& a, std::string_view b) { return a.view() == b; }

 private:
  std::unique_ptr<std::string> text_;  // null when empty
};

}  // namespace rcw
