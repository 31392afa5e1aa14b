#include "base/json_writer.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>

using namespace rcw;

TEST_CASE("JsonWriter writes nested objects and arrays with commas") {
  JsonWriter w;
  w.BeginObject().Key("a").Int(1).Key("b").BeginArray().String("x").Bool(true).Null().EndArray();
  w.Key("c").Number(0.5).Key("d").BeginObject().EndObject().EndObject();
  CHECK(w.str() == R"({"a":1,"b":["x",true,null],"c":0.5,"d":{}})");
}

TEST_CASE("JSON strings escape quotes, controls and invalid UTF-8") {
  std::string out;
  AppendJsonString(out, "a\"b\\c\nd\x01\xff" "\xc3\xa9");
  CHECK(out == "\"a\\\"b\\\\c\\nd\\u0001\\u00ff\xc3\xa9\"");
}

TEST_CASE("numbers round-trip in their shortest form, non-finite becomes null") {
  JsonWriter w;
  w.BeginArray().Number(12.0).Number(0.1).Number(1e300).Number(1.0 / 0.0).Number(7300);
  w.Number(-2.5).Number(123456.75).EndArray();
  CHECK(w.str() == "[12,0.1,1e+300,null,7300,-2.5,123456.75]");
}

TEST_CASE("every finite double reads back exactly from its shortest form") {
  CHECK(JsonWriter().Number(0.1 + 0.2).str() == "0.30000000000000004");
  CHECK(JsonWriter().Number(1e-7).str() == "1e-07");
  CHECK(JsonWriter().Number(5e-324).str() == "5e-324");
  CHECK(JsonWriter().Number(-1.7976931348623157e308).str() == "-1.7976931348623157e+308");
  std::mt19937_64 rng(20261129);
  for (int n = 0; n < 20000; ++n) {
    std::uint64_t bits = rng();
    double v;
    std::memcpy(&v, &bits, sizeof v);
    if (!std::isfinite(v)) continue;
    if (n % 2) v = static_cast<double>(bits % 10000000) / 1000.0;  // PU-like values too
    JsonWriter w;
    w.Number(v);
    const std::string& text = w.str();
    REQUIRE(text.size() <= 24);
    REQUIRE(std::strtod(text.c_str(), nullptr) == v);
  }
}
