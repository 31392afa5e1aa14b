#include "service/poller.h"

#include <unordered_set>

namespace rcw {
namespace {

// False when the listing failed (`out` says why).
bool ListOne(RealityConversionClient& api, const Config& config, std::optional<std::string> itwin,
             TimePoint now, Listing& out) {
  ListQuery q;
  q.itwin_id = std::move(itwin);
  q.created_after = now - config.watch.lookback;
  q.page_size = config.watch.page_size;
  ApiResult<ListStats> r = api.ListJobs(q, out.jobs);
  if (r.ok()) {
    out.pages += r.value().pages;
    return true;
  }
  out.complete = false;
  if (out.error.empty()) {
    out.error = "listing " + (q.itwin_id ? "iTwin " + *q.itwin_id : std::string("own jobs")) +
                " failed: " + r.error().ToString();
  }
  return false;
}

void FollowOutOfWindow(RealityConversionClient& api, PersistentState& state, Listing& out) {
  if (state.followed.empty()) return;
  // The followed jobs the listing did not return (a few, against up to
  // 100,000s listed: the small set is the one hashed).
  std::unordered_set<std::string_view> unlisted(state.followed.begin(), state.followed.end());
  for (const Job& j : out.jobs) unlisted.erase(j.id);
  std::vector<Job> read;
  for (auto it = state.followed.begin(); it != state.followed.end();) {
    if (!unlisted.count(*it)) {
      ++it;
      continue;
    }
    ApiResult<Job> r = api.GetJob(*it);
    ++out.gets;
    if (r.ok()) {
      bool running = !IsTerminal(r.value().state);
      read.push_back(std::move(r).value());
      it = running ? std::next(it) : state.followed.erase(it);
    } else if (r.error().outcome == ApiOutcome::kNotFound) {
      it = state.followed.erase(it);
    } else {
      out.complete = false;
      if (out.error.empty()) out.error = "following job " + *it + ": " + r.error().ToString();
      ++it;
    }
  }
  for (Job& j : read) out.jobs.push_back(std::move(j));
}

}  // namespace

Listing PollJobs(RealityConversionClient& api, const Config& config, PersistentState& state,
                 TimePoint now, std::vector<Job> recycled, std::size_t first_itwin) {
  Listing out;
  out.jobs = std::move(recycled);
  out.jobs.clear();
  if (config.watch.itwins.empty()) {
    ListOne(api, config, std::nullopt, now, out);
  } else {
    const std::vector<std::string>& itwins = config.watch.itwins;
    for (std::size_t k = 0; k < itwins.size(); ++k) {
      std::size_t i = (first_itwin + k) % itwins.size();
      if (!ListOne(api, config, itwins[i], now, out) && !out.first_failed) out.first_failed = i;
    }
  }
  if (out.complete) FollowOutOfWindow(api, state, out);
  // Jobs created this close to the lookback edge may leave the listing while
  // still running: remember them so the next polls follow them with GET.
  Seconds margin = std::max<Seconds>(std::chrono::hours{1}, 3 * config.watch.poll_interval);
  TimePoint edge = now - config.watch.lookback + margin;
  for (const Job& j : out.jobs) {
    if (!IsTerminal(j.state) && j.created <= edge) state.followed.insert(j.id.str());
  }
  return out;
}

}  // namespace rcw
