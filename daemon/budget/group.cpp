#include "budget/group.h"

#include <algorithm>

namespace rcw {
namespace {

constexpr std::string_view kAllGroup = "all";

template <class List, class Value>
bool AnyOf(const List& list, const Value& value) {
  return list.empty() || std::find(list.begin(), list.end(), value) != list.end();
}

std::string_view KeyOf(GroupBy group_by, std::string_view itwin, std::string_view user,
                       JobType type) {
  switch (group_by) {
    case GroupBy::kItwin:
      return itwin;
    case GroupBy::kUser:
      return user;
    case GroupBy::kType:
      return ToString(type);
    case GroupBy::kAll:
      break;
  }
  return kAllGroup;
}

}  // namespace

std::string_view GroupKey(GroupBy group_by, const Job& job) {
  return KeyOf(group_by, job.itwin_id, job.user_id, job.type);
}

std::string_view GroupKey(GroupBy group_by, const LedgerEntry& entry) {
  return KeyOf(group_by, entry.itwin_id, entry.user_id, entry.type);
}

bool Matches(const MatchSpec& match, const LedgerEntry& entry) {
  return AnyOf(match.types, entry.type) && AnyOf(match.itwins, entry.itwin_id) &&
         AnyOf(match.users, entry.user_id) &&
         (!match.name_regex || match.name_regex->Search(entry.name));
}

}  // namespace rcw
