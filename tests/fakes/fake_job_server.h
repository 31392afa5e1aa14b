// FakeJobServer: a Reality Conversion /jobs endpoint behind a FakeHttpClient
// handler, for listings of many pages and for GET /jobs/{id}.
//
// Each iTwin ("" for a listing without iTwin filter) has a list of pages of
// job JSON objects; page k links to page k+1 with continuationToken=<iTwin>.<k+1>.
// A listing with `createdDateTime gt T` in its $filter returns only the jobs
// created after T (whole seconds, as the API compares): pages are filtered
// and those left empty skipped, and the links carry the filter on (as the
// API's continuation tokens do). Like the iTwin platform, it refuses (429 with retry-after) a
// request beyond `max_per_minute` in any sliding minute of `clock`, and counts the refusals.
#pragma once

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_client.h"
#include "base/timefmt.h"
#include "fakes/fake_clock.h"

namespace rcw::testing {

// A job object as the API sends it.
inline std::string ApiJobJson(const std::string& id, const std::string& state,
                              const std::string& itwin,
                              const std::string& created = "2026-04-05T14:00:00Z") {
  return R"({"id":")" + id + R"(","state":")" + state + R"(","iTwinId":")" + itwin +
         R"(","type":"MeshSampling","executionInfo":{"createdDateTime":")" + created +
         (state == "Queued" ? R"("}})" : R"(","startedDateTime":")" + created + R"("}})");
}

class FakeJobServer {
 public:
  FakeJobServer(FakeClock& clock, std::string base) : clock_(clock), base_(std::move(base)) {}

  // pages[itwin][k]: the job objects of page k of that iTwin's listing.
  std::map<std::string, std::vector<std::vector<std::string>>> pages;
  std::map<std::string, std::string> single;  // GET /jobs/{id}: job object
  int max_per_minute = 0;                     // 0: no limit
  int retry_after_s = 60;
  int refused = 0;                     // requests answered 429
  std::vector<TimePoint> answered;     // when each request was accepted
  std::vector<std::string> list_urls;  // every listing request answered, in order
  // Every page, whatever the createdDateTime filter (an API that ignores it).
  bool ignore_created_filter = false;

  Result<HttpResponse> operator()(const HttpRequest& request) {
    HttpResponse r;
    if (OverLimit()) {
      ++refused;
      r.status = 429;
      r.headers = {{"retry-after", std::to_string(retry_after_s)}};
      return r;
    }
    answered.push_back(clock_.Now());
    r.status = 200;
    std::string_view url = request.url;
    std::string_view jobs_path = "/jobs/";
    if (size_t at = url.find(jobs_path); at != std::string_view::npos) {
      auto it = single.find(std::string(url.substr(at + jobs_path.size())));
      if (it == single.end()) return NotFound();
      r.body = R"({"job":)" + it->second + "}";
      return r;
    }
    list_urls.push_back(request.url);
    r.body = Page(url);
    return r;
  }

  // The `createdDateTime gt` bound of a list URL (a first page's filter, or a
  // link's after=); nullopt when it has none.
  static std::optional<TimePoint> CreatedAfter(std::string_view url) {
    if (size_t at = url.find("&after="); at != std::string_view::npos) {
      return TimePoint{std::chrono::seconds{std::stoll(std::string(url.substr(at + 7)))}};
    }
    constexpr std::string_view kGt = "createdDateTime%20gt%20";
    size_t at = url.find(kGt);
    if (at == std::string_view::npos) return std::nullopt;
    std::string_view rest = url.substr(at + kGt.size());
    rest = rest.substr(0, std::min(rest.find('&'), rest.find("%20")));
    std::string text;
    for (size_t i = 0; i < rest.size(); ++i) {
      if (rest.substr(i, 3) == "%3A") {
        text += ':';
        i += 2;
      } else {
        text += rest[i];
      }
    }
    Result<TimePoint> t = ParseTimestamp(text);
    if (!t.ok()) return std::nullopt;
    return *t;
  }

 private:
  bool OverLimit() const {
    if (max_per_minute <= 0) return false;
    TimePoint now = clock_.Now();
    int in_window = 0;
    for (TimePoint t : answered) in_window += (t > now - std::chrono::seconds{60}) ? 1 : 0;
    return in_window >= max_per_minute;
  }

  static Result<HttpResponse> NotFound() {
    HttpResponse r;
    r.status = 404;
    r.body = R"({"error":{"code":"JobNotFound","message":"no such job"}})";
    return r;
  }

  // A job object's createdDateTime.
  static TimePoint CreatedOf(const std::string& job) {
    constexpr std::string_view kKey = R"("createdDateTime":")";
    size_t at = job.find(kKey);
    if (at == std::string::npos) return TimePoint{};
    at += kKey.size();
    Result<TimePoint> t = ParseTimestamp(job.substr(at, job.find('"', at) - at));
    return t.ok() ? *t : TimePoint{};
  }

  // The pages of `itwin` as filtered by `after`: empty pages skipped.
  std::vector<std::vector<std::string>> Filtered(const std::string& itwin,
                                                 std::optional<TimePoint> after) const {
    std::vector<std::vector<std::string>> out;
    auto it = pages.find(itwin);
    if (it == pages.end()) return out;
    if (!after || ignore_created_filter) return it->second;
    // gt compares whole seconds, as the filter does.
    TimePoint bound = std::chrono::floor<std::chrono::seconds>(*after);
    for (const auto& page : it->second) {
      std::vector<std::string> kept;
      for (const std::string& job : page) {
        if (CreatedOf(job) > bound) kept.push_back(job);
      }
      if (!kept.empty()) out.push_back(std::move(kept));
    }
    return out;
  }

  std::string Page(std::string_view url) const {
    std::string itwin;
    size_t k = 0;
    if (size_t at = url.find("continuationToken="); at != std::string_view::npos) {
      std::string_view token = url.substr(at + 18);
      token = token.substr(0, token.find('&'));
      size_t dot = token.rfind('.');
      itwin = std::string(token.substr(0, dot));
      k = std::stoul(std::string(token.substr(dot + 1)));
    } else if (size_t eq = url.find("iTwinId%20eq%20"); eq != std::string_view::npos) {
      std::string_view rest = url.substr(eq + 15);
      itwin = std::string(rest.substr(0, rest.find_first_of("%&")));  // an id has neither
    }
    std::optional<TimePoint> after = CreatedAfter(url);
    std::vector<std::vector<std::string>> filtered = Filtered(itwin, after);
    if (k >= filtered.size()) return R"({"jobs":[]})";
    std::string body = R"({"jobs":[)";
    const std::vector<std::string>& jobs = filtered[k];
    for (size_t i = 0; i < jobs.size(); ++i) body += (i ? "," : "") + jobs[i];
    body += "]";
    if (k + 1 < filtered.size()) {
      std::string carried;
      if (after) {
        carried = "&after=" + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                                 after->time_since_epoch())
                                                 .count());
      }
      body += R"(,"_links":{"next":{"href":")" + base_ + "/jobs?continuationToken=" + itwin + "." +
              std::to_string(k + 1) + carried + R"("}})";
    }
    return body + "}";
  }

  FakeClock& clock_;
  std::string base_;
};

}  // namespace rcw::testing
