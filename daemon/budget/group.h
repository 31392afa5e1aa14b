// Budget groups and budget matching, for jobs of the listing and for ledger
// entries alike, so that a job is in the same group before and after it ends.
#pragma once

#include <string_view>

#include "base/job.h"
#include "base/ledger_entry.h"
#include "config/config.h"

namespace rcw {

// The group a job or entry belongs to under `group_by`: its iTwin id, its user
// id, its type's name as the enum spells it ("MeshSampling"; every type the
// decoder did not know is "Unknown", since ledger entries keep only the enum),
// or "all". The view points into `job`/`entry` or to static storage.
std::string_view GroupKey(GroupBy group_by, const Job& job);
std::string_view GroupKey(GroupBy group_by, const LedgerEntry& entry);

// config/match.h's Matches() for a ledger entry: types, itwins, users, and
// name_regex against the entry's stored name.
bool Matches(const MatchSpec& match, const LedgerEntry& entry);

}  // namespace rcw
