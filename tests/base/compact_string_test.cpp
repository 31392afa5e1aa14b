#include "base/compact_string.h"

#include <catch2/catch.hpp>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

using rcw::CompactString;

TEST_CASE("a GUID is held inline and longer text on the heap") {
  CompactString id("5e315451-564e-4e8b-a952-45b14e100001");
  CHECK_FALSE(id.on_heap());
  CHECK(id.size() == 36);
  CHECK(id == "5e315451-564e-4e8b-a952-45b14e100001");
  std::string long_text(CompactString::kInline + 1, 'x');
  CompactString big(long_text);
  CHECK(big.on_heap());
  CHECK(big.view() == long_text);
  CompactString limit(std::string(CompactString::kInline, 'y'));
  CHECK_FALSE(limit.on_heap());
  CHECK(limit.size() == CompactString::kInline);
  CHECK(CompactString().empty());
}

TEST_CASE("copies, moves and self-assignment keep the text and own their memory") {
  for (std::size_t n : {0u, 5u, 39u, 40u, 500u}) {
    std::string text(n, 'a');
    for (std::size_t i = 0; i < n; ++i) text[i] = static_cast<char>('a' + i % 26);
    CompactString a(text);
    CompactString b = a;  // copy
    CHECK(b == text);
    CompactString c = std::move(a);  // move
    CHECK(c == text);
    CHECK(a.empty());  // NOLINT: moved-from is empty, by contract of this class
    a = c;             // copy-assign into the moved-from object
    CHECK(a == text);
    b = std::move(c);  // move-assign over existing text
    CHECK(b == text);
    const CompactString& same = b;
    b = same;  // self-assignment
    CHECK(b == text);
    b = b.view().substr(n / 2);  // assign from a view into itself
    CHECK(b == std::string_view(text).substr(n / 2));
  }
}

TEST_CASE("compares, orders, hashes and concatenates like its text") {
  CompactString a("abc"), b("abd");
  CHECK(a < b);
  CHECK(a != b);
  CHECK(a == std::string("abc"));
  CHECK(std::string("abc") == a);
  CHECK("id " + a == "id abc");
  CHECK(a + "!" == "abc!");
  std::unordered_set<CompactString, rcw::TextHash, std::equal_to<>> set{a};
  CHECK(set.count(std::string_view("abc")) == 1);
  CHECK(set.count(std::string("abd")) == 0);
  std::vector<CompactString> v(1000, CompactString(std::string(60, 'z')));  // heap copies
  v.resize(3000);
  CHECK(v[999] == std::string(60, 'z'));
  CHECK(v[2999].empty());
}
