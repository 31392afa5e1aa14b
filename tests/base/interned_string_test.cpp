#include "base/interned_string.h"

#include <catch2/catch.hpp>
#include <string>

namespace rcw {
namespace {

TEST_CASE("interned strings: equal texts share one copy", "[base]") {
  std::string a = "ce54f773-67db-4b4f-a98b-368329107429";
  std::string b = a;  // a different buffer with the same text
  InternedString x(a), y(b);
  CHECK(x == y);
  CHECK(x.data() == y.data());  // one copy
  CHECK(x.data() != a.data());  // not a view of the caller's buffer
  a.assign(a.size(), 'x');      // the caller's buffer changes; the interned text does not
  CHECK(x.view() == b);
}

TEST_CASE("interned strings: a new text grows the pool once", "[base]") {
  std::size_t before = InternedString::PoolSize();
  InternedString x("interned-test-unique-text");
  InternedString y(std::string("interned-test-unique-text"));
  CHECK(InternedString::PoolSize() == before + 1);
  InternedString z("interned-test-another-text");
  CHECK(InternedString::PoolSize() == before + 2);
  CHECK(x != z);
  CHECK((x < z) == (x.view() < z.view()));
}

TEST_CASE("interned strings: empty and assigned values", "[base]") {
  InternedString e;
  CHECK(e.empty());
  CHECK(e == "");
  CHECK(e == InternedString(""));
  e.assign("3a8670f9-b69f-4a60-b958-f103d580755f");
  CHECK(e.size() == 36);
  CHECK(e == "3a8670f9-b69f-4a60-b958-f103d580755f");
  e.clear();
  CHECK(e.empty());
}

}  // namespace
}  // namespace rcw
