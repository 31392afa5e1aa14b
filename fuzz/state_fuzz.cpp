// DecodeState (json/state_decode.h) on any bytes: no crash; what it accepts,
// EncodeState (state/state_store.h) writes in a form DecodeState reads back,
// and a second round changes nothing (what the daemon saves, it can load).
// The same bytes as one line of ledger.jsonl (DecodeLedgerLine): no crash,
// and an accepted entry written by EncodeLedger reads back the same.
#include <cstddef>
#include <cstdint>
#include <string>

#include "json/state_decode.h"
#include "json_checks.h"
#include "state/state_store.h"

namespace {

void CheckLedgerLine(std::string_view line) {
  rcw::Result<rcw::LedgerEntry> entry = rcw::DecodeLedgerLine(line);
  if (!entry.ok()) {
    rcw::fuzz::CheckFailure(entry.status());
    return;
  }
  std::string written;
  RCW_FUZZ_CHECK(rcw::EncodeLedger(rcw::LedgerEntries{*entry}, [&](std::string_view chunk) {
                   written.append(chunk);
                   return rcw::Status::Ok();
                 }).ok());
  RCW_FUZZ_CHECK(!written.empty() && written.back() == '\n');
  written.pop_back();
  rcw::Result<rcw::LedgerEntry> again = rcw::DecodeLedgerLine(written);
  RCW_FUZZ_CHECK(again.ok());
  std::string rewritten;
  (void)rcw::EncodeLedger(rcw::LedgerEntries{*again}, [&](std::string_view chunk) {
    rewritten.append(chunk);
    return rcw::Status::Ok();
  });
  RCW_FUZZ_CHECK(rewritten == written + "\n");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body = rcw::fuzz::AsText(data, size);
  CheckLedgerLine(body);
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
