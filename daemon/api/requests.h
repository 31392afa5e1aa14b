// Building the request URLs of the Reality Conversion v2 API.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/job.h"
#include "base/status.h"

namespace rcw {

struct ListQuery {
  std::optional<std::string> itwin_id;     // "iTwinId eq <id>"
  std::optional<TimePoint> created_after;  // "createdDateTime gt <UTC, whole seconds>"
  // Empty: all states. Otherwise "state eq 'X'" or "state in ('X', 'Y')"; the
  // client also drops jobs in other states, in case the server ignores it.
  std::vector<JobState> states;
  int page_size = 1000;  // $top, clamped to 1..1000
};

// Ids we put into a URL or a filter: 1..128 of [A-Za-z0-9-] (GUIDs). Anything
// else is refused rather than escaped: it is not an id the API issued.
bool IsSafeId(std::string_view id);

// The $filter expression, unencoded ("" when the query has no criterion).
// kInvalidArgument for an unsafe iTwin id or a kUnknown state.
Result<std::string> BuildFilter(const ListQuery& query);

// "<base_url>/jobs?$filter=<encoded>&$top=<n>"; $filter is left out when
// empty (the API may then answer 400: it wants at least one criterion).
Result<std::string> BuildListUrl(std::string_view base_url, const ListQuery& query);

// "<base_url>/jobs/<id>". REQUIRES: IsSafeId(id).
std::string JobUrl(std::string_view base_url, std::string_view id);

}  // namespace rcw
