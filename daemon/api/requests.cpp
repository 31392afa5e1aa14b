#include "api/requests.h"

#include <algorithm>
#include <cctype>

#include "api/url.h"
#include "base/timefmt.h"

namespace rcw {
namespace {

constexpr int kMaxTop = 1000;
constexpr size_t kMaxIdLength = 128;

Result<std::string> StateFilter(const std::vector<JobState>& states) {
  std::string values;
  for (JobState s : states) {
    if (s == JobState::kUnknown) {
      return Status(StatusCode::kInvalidArgument, "cannot filter on an unknown job state");
    }
    if (!values.empty()) values += ", ";
    values += "'" + std::string(ToString(s)) + "'";
  }
  if (states.size() == 1) return "state eq " + values;
  return "state in (" + values + ")";
}

}  // namespace

bool IsSafeId(std::string_view id) {
  return !id.empty() && id.size() <= kMaxIdLength && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
  });
}

Result<std::string> BuildFilter(const ListQuery& query) {
  std::vector<std::string> terms;
  if (query.itwin_id) {
    if (!IsSafeId(*query.itwin_id)) {
      return Status(StatusCode::kInvalidArgument,
                    "iTwin id \"" + query.itwin_id->substr(0, 64) +
                        "\" has characters other than letters, digits and '-'");
    }
    terms.push_back("iTwinId eq " + *query.itwin_id);
  }
  if (query.created_after) {
    // Whole seconds, rounded down: a superset of the jobs asked for.
    terms.push_back("createdDateTime gt " + FormatTimestamp(*query.created_after));
  }
  if (!query.states.empty()) {
    Result<std::string> states = StateFilter(query.states);
    if (!states.ok()) return states.status();
    terms.push_back(*states);
  }
  std::string filter;
  for (const std::string& term : terms) filter += (filter.empty() ? "" : " and ") + term;
  return filter;
}

Result<std::string> BuildListUrl(std::string_view base_url, const ListQuery& query) {
  Result<std::string> filter = BuildFilter(query);
  if (!filter.ok()) return filter.status();
  std::string url = std::string(base_url) + "/jobs?";
  if (!filter->empty()) url += "$filter=" + PercentEncode(*filter) + "&";
  url += "$top=" + std::to_string(std::clamp(query.page_size, 1, kMaxTop));
  return url;
}

std::string JobUrl(std::string_view base_url, std::string_view id) {
  return std::string(base_url) + "/jobs/" + PercentEncode(id);
}

}  // namespace rcw
