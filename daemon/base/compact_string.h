// CompactString: an immutable-looking text value for the ids a Job carries.
// Text of up to kInline bytes (a 36-character GUID fits) lives inside the
// object, so decoding a job allocates nothing for its ids; longer text goes to
// the heap. A poll holds 100,000s of jobs, and three std::string ids cost
// 3 x 48 heap bytes each on top of the 3 x 32 of the strings themselves.
//
// Reads go through std::string_view (implicit); there is deliberately no
// implicit std::string conversion, so every copy into a std::string is visible.
#pragma once

#include <compare>
#include <functional>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>

namespace rcw {

class CompactString {
 public:
  static constexpr std::size_t kInline = 39;

  CompactString() noexcept { buf_[kTag] = 0; }
  CompactString(std::string_view text) { Init(text); }  // NOLINT: implicit by design
  CompactString(const char* text) : CompactString(std::string_view(text)) {}  // NOLINT
  CompactString(const std::string& text) : CompactString(std::string_view(text)) {}  // NOLINT
  CompactString(const CompactString& other) { Init(other.view()); }
  CompactString(CompactString&& other) noexcept;
  CompactString& operator=(const CompactString& other);
  CompactString& operator=(CompactString&& other) noexcept;
  CompactString& operator=(std::string_view text);
  CompactString& operator=(const char* text) { return *this = std::string_view(text); }
  CompactString& operator=(const std::string& text) { return *this = std::string_view(text); }
  ~CompactString() { Free(); }

  void assign(std::string_view text) { *this = text; }
  void clear() { *this = std::string_view(); }

  std::string_view view() const noexcept {
    if (!on_heap()) return std::string_view(buf_, static_cast<std::uint8_t>(buf_[kTag]));
    Heap h = heap();
    return std::string_view(h.data, h.size);
  }
  operator std::string_view() const noexcept { return view(); }  // NOLINT: implicit by design
  std::string str() const { return std::string(view()); }
  const char* data() const noexcept { return view().data(); }
  std::size_t size() const noexcept { return view().size(); }
  bool empty() const noexcept { return size() == 0; }
  // True when the text did not fit inline (for tests and benchmarks).
  bool on_heap() const noexcept { return static_cast<std::uint8_t>(buf_[kTag]) == kHeap; }

  friend bool operator==(const CompactString& a, const CompactString& b) noexcept {
    return a.view() == b.view();
  }
  friend bool operator==(const CompactString& a, std::string_view b) noexcept {
    return a.view() == b;
  }
  friend bool operator==(const CompactString& a, const char* b) noexcept { return a.view() == b; }
  friend bool operator==(const CompactString& a, const std::string& b) noexcept {
    return a.view() == b;
  }
  friend std::strong_ordering operator<=>(const CompactString& a, const CompactString& b) noexcept {
    return a.view() <=> b.view();
  }
  friend std::strong_ordering operator<=>(const CompactString& a, std::string_view b) noexcept {
    return a.view() <=> b;
  }
  friend std::strong_ordering operator<=>(const CompactString& a, const std::string& b) noexcept {
    return a.view() <=> std::string_view(b);
  }

 private:
  // buf_[0..kInline) holds inline text and buf_[kTag] its length; kHeap
  // there means buf_ starts with a Heap (copied in and out with memcpy).
  static constexpr std::size_t kTag = kInline;
  static constexpr std::uint8_t kHeap = 0xff;
  struct Heap {
    char* data;
    std::size_t size;
  };

  Heap heap() const noexcept;
  void Init(std::string_view text);
  void Free() noexcept;

  alignas(8) char buf_[kInline + 1];
};

static_assert(sizeof(CompactString) == 40);

// A transparent hash, so that unordered sets and maps keyed by CompactString
// (or std::string) are searched with any text without a copy:
// std::unordered_set<CompactString, TextHash, std::equal_to<>>.
struct TextHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

std::ostream& operator<<(std::ostream& out, const CompactString& s);
std::string operator+(std::string_view a, const CompactString& b);
std::string operator+(const CompactString& a, std::string_view b);

}  // namespace rcw

template <>
struct std::hash<rcw::CompactString> {
  std::size_t operator()(const rcw::CompactString& s) const noexcept {
    return std::hash<std::string_view>{}(s.view());
  }
};
