// DecodeErrorBody (json/decode.h) on any bytes: no crash, no leak, no
// exception (it is called on every failed response, HTML pages included).
#include <cstddef>
#include <cstdint>

#include "json/decode.h"
#include "json_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body = rcw::fuzz::AsText(data, size);
  std::optional<rcw::ApiErrorBody> e = rcw::DecodeErrorBody(body);
  // Nothing decodes from a body that is not a JSON object.
  if (e) RCW_FUZZ_CHECK(body.find('{') != std::string_view::npos);
  return 0;
}
