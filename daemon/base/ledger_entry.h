// Plain values that the budget module computes and the state module persists.
#pragma once

#include <deque>
#include <string>

#include "base/clock.h"
#include "base/compact_string.h"
#include "base/interned_string.h"
#include "base/job.h"

namespace rcw {

// One ended job whose processing units were counted, once, in the window of
// its endedDateTime.
// The ledger keeps one per ended job of its longest window: compact, like Job.
struct LedgerEntry {
  CompactString job_id;
  TimePoint ended{};
  double processing_units = 0;
  // Interned: a few hundred distinct values repeated over 100,000s of entries.
  InternedString itwin_id;
  InternedString user_id;
  JobType type = JobType::kUnknown;
  // job.name, so that a budget's match.name_regex applies to ended jobs too.
  // Empty for entries persisted before the field existed (such an entry then
  // matches a name_regex only if the regex matches the empty string).
  CompactString name;
};

// What the history row of a counted job (base/history.h) holds beyond its
// ledger entry. The ledger keeps one for each entry not saved yet, so a job
// counted as its page arrives needs no copy of itself until the save.
struct CountedHistory {
  TimePoint created{};
  TimePoint started{};  // meaningful when has_started
  JobState state = JobState::kUnknown;
  bool has_started = false;
};

// The ledger's entries. A deque, not a vector: it grows in blocks, never by
// moving every entry to a buffer twice the size, so a month of 90,000 entries
// (16.6 MB) never needs 50 MB for a moment while the poll's listing is alive.
using LedgerEntries = std::deque<LedgerEntry>;

// A learned processing-unit rate for one job type.
struct LearnedRate {
  JobType type = JobType::kUnknown;
  double pu_per_hour = 0;
  int samples = 0;
};

}  // namespace rcw
