// DecodeTokenResponse (json/decode.h) on any bytes: no crash; an accepted
// response has a token and 1 s <= expires_in <= one year; no message repeats
// a value of the body. For the last check every "@T" in the input becomes a
// secret-looking text first, so the fuzzer can place "secrets" anywhere.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "json/decode.h"
#include "json_checks.h"

namespace {

constexpr std::string_view kPlaceholder = "@T";
constexpr std::string_view kSecret = "Zq8xV3tKp0LmW7rB";  // in no message text

std::string WithSecrets(std::string_view input) {
  std::string out;
  for (size_t i = 0; i < input.size();) {
    if (input.substr(i, kPlaceholder.size()) == kPlaceholder) {
      out += kSecret;
      i += kPlaceholder.size();
    } else {
      out += input[i++];
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string body = WithSecrets(rcw::fuzz::AsText(data, size));
  rcw::Result<rcw::TokenResponse> t = rcw::DecodeTokenResponse(body);
  if (!t.ok()) {
    rcw::fuzz::CheckFailure(t.status());
    RCW_FUZZ_CHECK(t.status().message().find(kSecret) == std::string::npos);
    return 0;
  }
  RCW_FUZZ_CHECK(!t->access_token.empty());
  RCW_FUZZ_CHECK(t->expires_in >= std::chrono::seconds(1));
  RCW_FUZZ_CHECK(t->expires_in <= std::chrono::seconds(365LL * 86400));
  return 0;
}
