// Properties shared by the JSON decoder targets.
#pragma once

#include <cmath>
#include <string_view>

#include "base/job.h"
#include "base/status.h"
#include "fuzz_check.h"

namespace rcw::fuzz {

inline bool HasAsciiUpper(std::string_view s) {
  for (char c : s) {
    if (c >= 'A' && c <= 'Z') return true;
  }
  return false;
}

// What decode.h promises of every decoded job: ids are lower-cased.
inline void CheckJob(const Job& job) {
  RCW_FUZZ_CHECK(!std::string_view(job.id).empty());
  RCW_FUZZ_CHECK(!HasAsciiUpper(job.id) && !HasAsciiUpper(job.itwin_id) &&
                 !HasAsciiUpper(job.user_id));
  if (job.processing_units) {
    RCW_FUZZ_CHECK(std::isfinite(*job.processing_units) && *job.processing_units >= 0);
  }
}

// A failure is kBadResponse with a message.
inline void CheckFailure(const Status& s) {
  RCW_FUZZ_CHECK(s.code() == StatusCode::kBadResponse);
  RCW_FUZZ_CHECK(!s.message().empty());
}

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace rcw::fuzz
