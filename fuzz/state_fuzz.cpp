// DecodeState (json/state_decode.h) on any bytes: no crash; what it accepts,
// EncodeState (state/state_store.h) writes in a form DecodeState reads back,
// and a second round changes nothing (what the daemon saves, it can load).
#include <cstddef>
#include <cstdint>
#include <string>

#include "json/state_decode.h"
#include "json_checks.h"
#include "state/state_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body = rcw::fuzz::AsText(data, size);
  rcw::Result<rcw::PersistentState> state = rcw::DecodeState(body);
  if (!state.ok()) {
    rcw::fuzz::CheckFailure(state.status());
    return 0;
  }
  std::string once = rcw::EncodeState(*state);
  rcw::Result<rcw::PersistentState> again = rcw::DecodeState(once);
  RCW_FUZZ_CHECK(again.ok());
  std::string twice = rcw::EncodeState(*again);
  RCW_FUZZ_CHECK(twice == once);
  return 0;
}
