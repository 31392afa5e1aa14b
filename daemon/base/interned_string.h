// InternedString: one shared copy of a text value that many records repeat.
// The ledger keeps an entry per ended job of its longest window (100,000 and
// more), and each names its iTwin and user: a few hundred distinct GUIDs in
// practice. Inline (CompactString) they cost 2 x 40 bytes per entry; interned,
// 2 x 8, and each distinct text is stored once.
//
// The pool lives for the process and only grows: an interned text is never
// freed, so a view of it stays valid. It holds one copy per distinct value
// ever interned (ids the API reported for ended jobs, capped in length at
// decode), which is bounded by the iTwins and users that exist. Interning
// takes a mutex; reading does not.
#pragma once

#include <compare>
#include <cstddef>
#include <string>
#include <string_view>

namespace rcw {

class InternedString {
 public:
  InternedString() noexcept = default;
  InternedString(std::string_view text) : text_(Intern(text)) {}  // NOLINT: implicit by design
  InternedString(const char* text) : InternedString(std::string_view(text)) {}         // NOLINT
  InternedString(const std::string& text) : InternedString(std::string_view(text)) {}  // NOLINT

  void assign(std::string_view text) { text_ = Intern(text); }
  void clear() noexcept { text_ = nullptr; }

  std::string_view view() const noexcept {
    return text_ ? std::string_view(*text_) : std::string_view();
  }
  operator std::string_view() const noexcept { return view(); }  // NOLINT: implicit by design
  std::string str() const { return std::string(view()); }
  const char* data() const noexcept { return view().data(); }
  std::size_t size() const noexcept { return view().size(); }
  bool empty() const noexcept { return size() == 0; }

  // Equal texts share one copy, so equality is a pointer comparison.
  friend bool operator==(const InternedString& a, const InternedString& b) noexcept {
    return a.text_ == b.text_ || a.view() == b.view();
  }
  friend bool operator==(const InternedString& a, std::string_view b) noexcept {
    return a.view() == b;
  }
  friend bool operator==(const InternedString& a, const char* b) noexcept { return a.view() == b; }
  friend std::strong_ordering operator<=>(const InternedString& a,
                                          const InternedString& b) noexcept {
    return a.view() <=> b.view();
  }
  friend std::strong_ordering operator<=>(const InternedString& a, std::string_view b) noexcept {
    return a.view() <=> b;
  }

  // Distinct texts interned so far (for tests and benchmarks).
  static std::size_t PoolSize();

 private:
  // nullptr for the empty text: a default value interns nothing.
  static const std::string* Intern(std::string_view text);

  const std::string* text_ = nullptr;
};

}  // namespace rcw
