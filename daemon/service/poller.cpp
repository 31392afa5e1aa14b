#include "service/poller.h"

#include <algorithm>
#include <set>
#include <string_view>
#include <unordered_set>

#include "base/log.h"

namespace rcw {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// watch.itwins, lower-cased (ids are lower-cased at decode; the config
// loader lowers them too, this only makes sure). Empty: everything watched.
using IdSet = std::unordered_set<std::string, TextHash, std::equal_to<>>;

IdSet WatchedSet(const Config& config) {
  IdSet watched;
  for (const std::string& id : config.watch.itwins) watched.insert(Lower(id));
  return watched;
}

bool Unwatched(const IdSet& watched, const Job& job) {
  return !watched.empty() && watched.find(job.itwin_id.view()) == watched.end();
}

using ViewSet = std::unordered_set<std::string_view>;

// Lists one scope as `plan` says. False when the listing failed (`out` says
// why). Appends the scope's ScopeListing to out.scopes.
bool ListOne(RealityConversionClient& api, const Config& config, std::optional<std::string> itwin,
             const ScopePlan& plan, const ViewSet& pending,
             const RealityConversionClient::PageFold& fold, Listing& out) {
  ScopeListing scope;
  scope.scope = Lower(itwin.value_or(""));
  scope.kind = plan.kind;
  scope.created_after = plan.created_after;
  ListQuery q;
  q.itwin_id = std::move(itwin);
  q.created_after = plan.created_after;
  q.page_size = config.watch.page_size;
  const std::size_t before = out.jobs.size();
  ApiResult<ListStats> r = api.ListJobs(q, out.jobs, MaxPacingWait(config), &fold);
  if (r.ok()) {
    out.pages += r.value().pages;
    scope.complete = true;
    // The jobs of this scope that can still change: the next incremental
    // listing must reach back to the oldest of them.
    for (std::size_t i = before; i < out.jobs.size(); ++i) {
      const Job& j = out.jobs[i];
      if (IsTerminal(j.state) && (pending.empty() || !pending.count(j.id.view()))) continue;
      if (!scope.oldest_open || j.created < *scope.oldest_open) scope.oldest_open = j.created;
    }
    out.scopes.push_back(std::move(scope));
    return true;
  }
  out.scopes.push_back(std::move(scope));
  out.complete = false;
  if (q.itwin_id) out.incomplete_itwins.insert(*q.itwin_id);
  if (out.error.empty()) {
    out.error = "listing " + (q.itwin_id ? "iTwin " + *q.itwin_id : std::string("own jobs")) +
                " failed: " + r.error().ToString();
  }
  return false;
}

const ListingMark* MarkOf(const PersistentState& state, std::string_view scope) {
  auto it = state.listings.find(scope);
  return it == state.listings.end() ? nullptr : &it->second;
}

// PollJobs' page fold (see poller.h): drops the jobs `absorb` takes, except
// those in `keep` (pending cancellations, followed jobs) and those of
// unwatched iTwins (DropUnwatched accounts for them).
RealityConversionClient::PageFold MakeFold(const AbsorbFn& absorb, const IdSet& watched,
                                           const ViewSet& keep, Listing& out) {
  if (!absorb) return {};
  return [&absorb, &watched, &keep, &out](std::vector<Job>& jobs, std::size_t from) {
    auto first = jobs.begin() + static_cast<std::ptrdiff_t>(from);
    auto end = std::remove_if(first, jobs.end(), [&](const Job& j) {
      if (Unwatched(watched, j) || keep.count(j.id.view())) return false;
      // A terminating job (or one in a state we cannot place) can still
      // change and holds the next listing's horizon: kept, as before.
      if (!IsTerminal(j.state) && !IsRunning(j.state)) return false;
      if (!absorb(j)) return false;
      if (IsRunning(j.state)) {
        ++out.stale;
      } else {
        ++out.folded;
        ++out.folded_counts[static_cast<int>(j.state)][static_cast<int>(j.type)];
      }
      return true;
    });
    jobs.erase(end, jobs.end());
  };
}

// Drops the listed jobs of iTwins not watched; they are not followed either.
void DropUnwatched(const IdSet& watched, PersistentState& state, Listing& out) {
  if (watched.empty()) return;
  auto end = std::remove_if(out.jobs.begin(), out.jobs.end(), [&](const Job& j) {
    if (!Unwatched(watched, j)) return false;
    if (!state.followed.empty()) state.followed.erase(std::string(j.id.view()));
    return true;
  });
  out.unwatched += static_cast<std::size_t>(out.jobs.end() - end);
  out.jobs.erase(end, out.jobs.end());
}

void FollowOutOfWindow(RealityConversionClient& api, const Config& config, const IdSet& watched,
                       PersistentState& state, Listing& out) {
  if (state.followed.empty()) return;
  // The followed jobs the listing did not return (a few, against up to
  // 100,000s listed: the small set is the one hashed).
  std::unordered_set<std::string_view> unlisted(state.followed.begin(), state.followed.end());
  for (const Job& j : out.jobs) unlisted.erase(j.id);
  // Copied out before anything is erased from `followed`: the views in
  // `unlisted` point into its strings (a view left dangling by an erase was
  // compared on the next lookup: a use-after-free that ASan found).
  std::vector<std::string> ids(unlisted.begin(), unlisted.end());
  unlisted.clear();
  std::sort(ids.begin(), ids.end());  // in the followed set's order
  std::vector<Job> read;
  for (const std::string& id : ids) {
    ApiResult<Job> r = api.GetJob(id, MaxPacingWait(config));
    ++out.gets;
    if (r.ok() && Unwatched(watched, r.value())) {
      ++out.unwatched;  // its iTwin is no longer watched: forget it
      state.followed.erase(id);
    } else if (r.ok()) {
      if (IsTerminal(r.value().state)) state.followed.erase(id);
      read.push_back(std::move(r).value());
    } else if (r.error().outcome == ApiOutcome::kNotFound) {
      state.followed.erase(id);
    } else {
      out.complete = false;
      if (out.error.empty()) out.error = "following job " + id + ": " + r.error().ToString();
    }
  }
  for (Job& j : read) out.jobs.push_back(std::move(j));
}

// A set of indexes into `jobs`, hashed and compared by the job id they hold:
// no id is copied, and moving a Job within the vector invalidates nothing.
struct IdOf {
  const std::vector<Job>* jobs;
  std::size_t operator()(std::size_t i) const noexcept {
    return std::hash<std::string_view>{}((*jobs)[i].id.view());
  }
  bool operator()(std::size_t a, std::size_t b) const noexcept {
    return (*jobs)[a].id == (*jobs)[b].id;
  }
};

}  // namespace

std::string_view ToString(ListingKind kind) {
  return kind == ListingKind::kFull ? "full" : "incremental";
}

ListingKind Listing::kind() const {
  for (const ScopeListing& s : scopes) {
    if (s.kind == ListingKind::kFull) return ListingKind::kFull;
  }
  return scopes.empty() ? ListingKind::kFull : ListingKind::kIncremental;
}

ScopePlan PlanScope(const Config& config, const ListingMark* mark, TimePoint now) {
  const TimePoint window = now - config.watch.lookback;
  ScopePlan full{ListingKind::kFull, window};
  if (config.watch.full_listing_interval <= config.watch.poll_interval) return full;
  if (mark == nullptr || !mark->horizon || !mark->full_at) return full;
  if (mark->lookback != config.watch.lookback) return full;       // watch changed
  if (*mark->full_at > now || *mark->horizon > now) return full;  // the clock went back
  if (now - *mark->full_at >= config.watch.full_listing_interval) return full;
  TimePoint from = *mark->horizon - kIncrementalMargin;
  return {ListingKind::kIncremental, std::max(window, from)};
}

void CommitListing(const Config& config, const Listing& listing, PersistentState& state) {
  std::set<std::string, std::less<>> watched;
  if (config.watch.itwins.empty()) {
    watched.insert("");
  } else {
    for (const std::string& id : config.watch.itwins) watched.insert(Lower(id));
  }
  std::erase_if(state.listings, [&](const auto& kv) { return !watched.count(kv.first); });
  for (const ScopeListing& s : listing.scopes) {
    if (!watched.count(s.scope)) continue;
    if (!s.complete) {
      state.listings.erase(s.scope);  // the next listing of this scope is full
      continue;
    }
    ListingMark& mark = state.listings[s.scope];
    mark.scope = s.scope;
    mark.horizon = s.oldest_open ? std::min(*s.oldest_open, listing.started) : listing.started;
    if (s.kind == ListingKind::kFull) mark.full_at = listing.started;
    mark.lookback = config.watch.lookback;
  }
}

void ForgetListingsIfWatchChanged(const WatchConfig& before, const WatchConfig& after,
                                  PersistentState& state) {
  if (before == after) return;
  if (!state.listings.empty()) LogInfo("watch changed: the next listings are full");
  state.listings.clear();
}

Millis MaxPacingWait(const Config& config) {
  Millis four_polls = std::chrono::duration_cast<Millis>(4 * config.watch.poll_interval);
  return std::min<Millis>(Millis{120'000}, four_polls);
}

int LifecycleRank(JobState state) {
  switch (state) {
    case JobState::kQueued:
      return 0;
    case JobState::kActive:
    case JobState::kUnknown:
      return 1;
    case JobState::kTerminatingOnCancel:
    case JobState::kTerminatingOnFailure:
      return 2;
    case JobState::kCancelled:
    case JobState::kFailed:
    case JobState::kSuccess:
      return 3;
  }
  return 1;
}

std::size_t KeepOneRecordPerJob(std::vector<Job>& jobs) {
  IdOf id_of{&jobs};
  std::unordered_set<std::size_t, IdOf, IdOf> kept(jobs.size(), id_of, id_of);
  std::size_t w = 0;  // jobs[0, w) are the records kept so far
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    auto seen = kept.find(i);  // jobs[i] is still in place: i >= w
    if (seen != kept.end()) {
      Job& earlier = jobs[*seen];
      if (LifecycleRank(jobs[i].state) >= LifecycleRank(earlier.state)) {
        std::swap(earlier, jobs[i]);  // same id: the set stays valid
      }
      continue;
    }
    if (w != i) jobs[w] = std::move(jobs[i]);
    kept.insert(w++);
  }
  std::size_t dropped = jobs.size() - w;
  jobs.erase(jobs.begin() + static_cast<std::ptrdiff_t>(w), jobs.end());
  return dropped;
}

TimePoint EarliestListed(const Config& config, const PersistentState& state, TimePoint now) {
  if (config.watch.itwins.empty()) return PlanScope(config, MarkOf(state, ""), now).created_after;
  TimePoint earliest = TimePoint::max();
  for (const std::string& itwin : config.watch.itwins) {
    earliest =
        std::min(earliest, PlanScope(config, MarkOf(state, Lower(itwin)), now).created_after);
  }
  return earliest;
}

Listing PollJobs(RealityConversionClient& api, const Config& config, PersistentState& state,
                 TimePoint now, std::vector<Job> recycled, std::size_t first_itwin,
                 const AbsorbFn& absorb) {
  Listing out;
  out.jobs = std::move(recycled);
  out.jobs.clear();
  out.started = now;
  const IdSet watched = WatchedSet(config);
  ViewSet pending;
  for (const PendingCancel& p : state.pending) pending.insert(p.job_id);
  ViewSet keep;
  if (absorb) {
    keep = pending;
    for (const std::string& id : state.followed) keep.insert(id);
  }
  const RealityConversionClient::PageFold fold = MakeFold(absorb, watched, keep, out);
  if (config.watch.itwins.empty()) {
    ListOne(api, config, std::nullopt, PlanScope(config, MarkOf(state, ""), now), pending, fold,
            out);
  } else {
    const std::vector<std::string>& itwins = config.watch.itwins;
    for (std::size_t k = 0; k < itwins.size(); ++k) {
      std::size_t i = (first_itwin + k) % itwins.size();
      std::string scope = Lower(itwins[i]);
      ScopePlan plan = PlanScope(config, MarkOf(state, scope), now);
      if (!ListOne(api, config, itwins[i], plan, pending, fold, out) && !out.first_failed) {
        out.first_failed = i;
      }
    }
  }
  // Once more over what was kept: a queued or running record of a job whose
  // ended record a later page brought (and absorbed) goes now.
  if (fold) fold(out.jobs, 0);
  DropUnwatched(watched, state, out);
  if (out.complete) FollowOutOfWindow(api, config, watched, state, out);
  // Last, so that it also covers a job read back with GET that the listing
  // returned too (a followed id saved in another case by an older version).
  out.duplicates = KeepOneRecordPerJob(out.jobs);
  if (out.unwatched > 0 || out.duplicates > 0 || out.stale > 0) {
    LogDebug("listing: dropped " + std::to_string(out.unwatched) + " jobs of unwatched iTwins, " +
             std::to_string(out.duplicates) + " duplicate records, " + std::to_string(out.stale) +
             " queued or running records of jobs counted ended before");
  }
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
