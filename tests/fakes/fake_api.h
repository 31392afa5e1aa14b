// Fakes for the API client's collaborators: a recording ApiObserver and a
// scriptable TokenSource.
#pragma once

#include <deque>
#include <string>
#include <tuple>
#include <vector>

#include "api/api_observer.h"
#include "api/token_provider.h"

namespace rcw::testing {

class RecordingObserver final : public ApiObserver {
 public:
  struct Response {
    ApiOperation op;
    long http_status;
    double seconds;
  };
  void OnResponse(ApiOperation op, long http_status, double seconds) override {
    responses.push_back({op, http_status, seconds});
  }
  void OnRateLimited(ApiOperation op) override { rate_limited.push_back(op); }
  void OnServerDate(TimePoint server_date, TimePoint local_now) override {
    server_dates.emplace_back(server_date, local_now);
  }

  std::vector<Response> responses;
  std::vector<ApiOperation> rate_limited;
  std::vector<std::pair<TimePoint, TimePoint>> server_dates;
};

// Hands out "Bearer token-1", "Bearer token-2", ...: a new one after each
// Invalidate(). Queue a failure with Fail() to make the next BearerToken() fail.
class FakeTokenSource final : public TokenSource {
 public:
  Result<std::string> BearerToken() override {
    ++calls;
    if (!failures_.empty()) {
      Status s = failures_.front();
      failures_.pop_front();
      return s;
    }
    return "Bearer token-" + std::to_string(generation);
  }
  void Invalidate() override {
    ++invalidations;
    ++generation;
  }
  void Fail(Status s) { failures_.push_back(std::move(s)); }

  int generation = 1;
  int calls = 0;
  int invalidations = 0;

 private:
  std::deque<Status> failures_;
};

}  // namespace rcw::testing
