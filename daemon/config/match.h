// MatchSpec and ExemptSpec evaluation, shared by policies and budgets.
#pragma once

#include <algorithm>

#include "base/job.h"
#include "config/config.h"

namespace rcw {

// True when every key given in `m` matches `job` (an empty spec matches all).
inline bool Matches(const MatchSpec& m, const Job& job) {
  auto has = [](const auto& list, const auto& v) {
    return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
  };
  return has(m.types, job.type) && has(m.itwins, job.itwin_id) && has(m.users, job.user_id) &&
         (!m.name_regex || m.name_regex->Search(job.name));
}

// True when `job` is exempt: its id is listed or its name matches the regex.
inline bool IsExempt(const ExemptSpec& e, const Job& job) {
  return std::find(e.ids.begin(), e.ids.end(), job.id) != e.ids.end() ||
         (e.name_regex && e.name_regex->Search(job.name));
}

}  // namespace rcw
