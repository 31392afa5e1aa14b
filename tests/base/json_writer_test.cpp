#include "base/json_writer.h"

#include <catch2/catch.hpp>

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

TEST_CASE("numbers round-trip in their shortest form; non-finite becomes null") {
  JsonWriter w;
  w.BeginArray().Number(12.0).Number(0.1).Number(1e300).Number(1.0 / 0.0).Number(7300);
  w.Number(-2.5).Number(123456.75).EndArray();
  CHECK(w.str() == "[12,0.1,1e+300,null,7300,-2.5,123456.75]");
}
