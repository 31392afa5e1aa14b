// FakeHttpClient: a scriptable HttpClient that records every request.
//
// Answers come from a queue (Respond/RespondJson/Fail), or, when the queue is
// empty, from an optional handler; with neither, Send() fails the test with
// kInternal "unexpected request". Every request is recorded (method, url,
// headers, body), including those answered with an error.
#pragma once

#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/http_client.h"

namespace rcw::testing {

class FakeHttpClient final : public HttpClient {
 public:
  using Headers = std::vector<std::pair<std::string, std::string>>;
  using Handler = std::function<Result<HttpResponse>(const HttpRequest&)>;

  // Queues an answer with `status`, `body` and (lower-case) `headers`.
  FakeHttpClient& Respond(long status, std::string body = {}, Headers headers = {}) {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    queue_.emplace_back(std::move(r));
    return *this;
  }
  // Queues a transport failure (e.g. kUnavailable "connection reset").
  FakeHttpClient& Fail(Status status) {
    queue_.emplace_back(std::move(status));
    return *this;
  }
  // Answers requests once the queue is empty.
  void set_handler(Handler handler) { handler_ = std::move(handler); }
  // Runs before each answer (e.g. to advance a FakeClock by the latency).
  void set_on_send(std::function<void(const HttpRequest&)> f) { on_send_ = std::move(f); }

  Result<HttpResponse> Send(const HttpRequest& request) override {
    requests_.push_back(request);
    if (on_send_) on_send_(request);
    if (!queue_.empty()) {
      Result<HttpResponse> r = std::move(queue_.front());
      queue_.pop_front();
      return r;
    }
    if (handler_) return handler_(request);
    return Status(StatusCode::kInternal,
                  "unexpected request: " + request.method + " " + request.url);
  }

  const std::vector<HttpRequest>& requests() const { return requests_; }
  const HttpRequest& last() const { return requests_.back(); }
  std::size_t pending() const { return queue_.size(); }

  // The value of header `name` (exact case) in request `i`, if sent.
  std::optional<std::string> RequestHeader(std::size_t i, std::string_view name) const {
    for (const auto& [k, v] : requests_.at(i).headers) {
      if (k == name) return v;
    }
    return std::nullopt;
  }

 private:
  std::deque<Result<HttpResponse>> queue_;
  std::vector<HttpRequest> requests_;
  Handler handler_;
  std::function<void(const HttpRequest&)> on_send_;
};

}  // namespace rcw::testing
