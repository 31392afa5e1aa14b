// Decoding of <state.directory>/state.json of rc-watchdog 0.1.x (written by
// state/EncodeState), for its import into state.db (state/legacy_state.h).
#pragma once

#include <string_view>

#include "base/persisted_state.h"
#include "base/status.h"

namespace rcw {

// kBadResponse naming the first bad field ("pending[2].next_attempt: ...").
Result<PersistentState> DecodeState(std::string_view body);

// One line of <state.directory>/ledger.jsonl: a ledger entry object, as in
// state.json's "ledger" array. kBadResponse naming the bad field.
Result<LedgerEntry> DecodeLedgerLine(std::string_view line);

}  // namespace rcw
