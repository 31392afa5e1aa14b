// ParseDuration / FormatDuration (base/timefmt.h): no crash; an accepted text
// is digits and s/m/h/d only, gives a value >= 0 that formats back to a text
// parsing to the same value; any value formats (leading 8 bytes as seconds).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "base/timefmt.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  rcw::Result<rcw::Seconds> d = rcw::ParseDuration(text);
  if (d.ok()) {
    RCW_FUZZ_CHECK(text.find_first_not_of("0123456789smhd") == std::string_view::npos);
    RCW_FUZZ_CHECK(d->count() >= 0);
    std::string formatted = rcw::FormatDuration(*d);
    rcw::Result<rcw::Seconds> again = rcw::ParseDuration(formatted);
    RCW_FUZZ_CHECK(again.ok() && *again == *d);
  } else {
    RCW_FUZZ_CHECK(d.status().code() == rcw::StatusCode::kInvalidConfig);
    RCW_FUZZ_CHECK(d.status().message().find("is not a duration") != std::string::npos);
  }
  if (size >= 8) {  // FormatDuration of any value: "-" and the magnitude
    int64_t raw = 0;
    std::memcpy(&raw, data, sizeof raw);
    std::string formatted = rcw::FormatDuration(rcw::Seconds(raw));
    RCW_FUZZ_CHECK(!formatted.empty() && (raw < 0) == (formatted[0] == '-'));
    rcw::Result<rcw::Seconds> back = rcw::ParseDuration(raw < 0 ? formatted.substr(1) : formatted);
    // Within ParseDuration's 100-year ceiling the magnitude reads back.
    if (back.ok()) RCW_FUZZ_CHECK(back->count() == (raw < 0 ? -raw : raw));
  }
  return 0;
}
