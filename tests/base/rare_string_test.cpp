#include "base/rare_string.h"

#include <catch2/catch.hpp>
#include <utility>

#include "base/job.h"

using namespace rcw;

TEST_CASE("RareString is empty until set and owns what it is given") {
  RareString s;
  CHECK(s.empty());
  CHECK(s.view().empty());
  std::string text = "GaussianSplatting";
  s.assign(text);
  text[0] = 'X';  // a copy, not a view
  CHECK_FALSE(s.empty());
  CHECK(s == "GaussianSplatting");
  s = "Paused";
  CHECK(s.view() == "Paused");
  s.assign("");
  CHECK(s.empty());
}

TEST_CASE("RareString copies deeply and moves") {
  RareString a;
  a = "Paused";
  RareString b = a;
  a = "Resumed";
  CHECK(b == "Paused");
  CHECK(a == "Resumed");
  RareString c = std::move(a);
  CHECK(c == "Resumed");
  b = c;
  CHECK(b == c);
  RareString empty;
  b = empty;
  CHECK(b.empty());
}

TEST_CASE("a Job's rarely set texts cost a pointer each") {
  CHECK(sizeof(RareString) == sizeof(void*));
  // Four inline ids (4 x 40), two rare texts (2 x 8), type and state, four
  // times: the listing of 100,000 jobs holds this many bytes per job.
  CHECK(sizeof(Job) <= 240);
  Job job;
  job.raw_state = "Paused";
  Job copy = job;
  CHECK(copy.StateText() == "Paused");
  CHECK(job.TypeText() == "Unknown");
}
