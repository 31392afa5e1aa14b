// DecodeJobPage (json/decode.h) on any bytes: no crash, every delivered job
// keeps the Job rules, a failure leaves no next page.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "json/decode.h"
#include "json_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body = rcw::fuzz::AsText(data, size);
  std::optional<std::string> next = "stale";  // must be reset on failure
  rcw::Status s = rcw::DecodeJobPage(
      body, [](rcw::Job&& job) { rcw::fuzz::CheckJob(job); }, next);
  if (!s.ok()) {
    rcw::fuzz::CheckFailure(s);
    RCW_FUZZ_CHECK(!next.has_value());
  }
  return 0;
}
