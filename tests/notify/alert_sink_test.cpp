// AlertSink: what goes to which Alertmanager when, resolution, retries,
// queue overflow, and the sending thread.
#include "notify/alert_sink.h"

#include <catch2/catch.hpp>
#include <condition_variable>
#include <map>
#include <mutex>

#include "base/timefmt.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_http_client.h"

using namespace rcw;
using namespace rcw::testing;
using namespace std::chrono_literals;

namespace {

class CountingObserver final : public NotifyObserver {
 public:
  void OnNotifications(std::string_view outcome, std::size_t count) override {
    std::lock_guard lock(mu);
    counts[std::string(outcome)] += count;
  }
  void OnNotificationsQueued(std::size_t n) override {
    std::lock_guard lock(mu);
    queued = n;
  }
  std::size_t Count(const std::string& outcome) {
    std::lock_guard lock(mu);
    return counts[outcome];
  }
  std::mutex mu;
  std::map<std::string, std::size_t> counts;
  std::size_t queued = 0;
};

Alert MakeAlert(std::string job, std::string alertname = "RcWatchdogJobNearLimit") {
  Alert a;
  a.labels = {{"alertname", alertname}, {"job_id", job}};
  a.annotations = {{"summary", "about " + job}};
  return a;
}

// Job ids in the order a request's body names them.
std::vector<std::string> JobsIn(const std::string& body) {
  std::vector<std::string> ids;
  for (std::size_t at = body.find("\"job_id\":\""); at != std::string::npos;
       at = body.find("\"job_id\":\"", at + 1)) {
    std::size_t start = at + 10;
    ids.push_back(body.substr(start, body.find('"', start) - start));
  }
  return ids;
}

std::string EndsAtIn(const std::string& body) {
  std::size_t at = body.find("\"endsAt\":\"");
  return body.substr(at + 10, body.find('"', at + 10) - at - 10);
}

struct Fixture {
  FakeClock clock;
  FakeHttpClient http;
  CountingObserver observer;
  AlertSink sink{http, clock, {{"http://am1:9093", "http://am2:9093"}, 60s}, &observer};

  Fixture() {
    http.set_handler([](const HttpRequest&) -> Result<HttpResponse> {
      HttpResponse ok;
      ok.status = 200;
      return ok;
    });
  }
};

}  // namespace

TEST_CASE("a new alert goes at once to every Alertmanager, then again each resend interval") {
  Fixture fx;
  fx.sink.Publish({MakeAlert("job-1")}, true);
  CHECK(fx.sink.queued() == 2);
  TimePoint next = fx.sink.SendDue();
  REQUIRE(fx.http.requests().size() == 2);
  CHECK(fx.http.requests()[0].method == "POST");
  CHECK(fx.http.requests()[0].url == "http://am1:9093/api/v2/alerts");
  CHECK(fx.http.requests()[1].url == "http://am2:9093/api/v2/alerts");
  CHECK(fx.http.RequestHeader(0, "Content-Type") == "application/json");
  CHECK(JobsIn(fx.http.requests()[0].body) == std::vector<std::string>{"job-1"});
  // endsAt three resend intervals ahead
  CHECK(EndsAtIn(fx.http.requests()[0].body) == FormatTimestampMs(fx.clock.Now() + 180s));
  CHECK(fx.sink.queued() == 0);
  CHECK(fx.observer.Count("sent") == 2);
  CHECK(next == fx.clock.Now() + 60s);

  // Published again unchanged: nothing new to send before the interval.
  fx.sink.Publish({MakeAlert("job-1")}, true);
  fx.sink.SendDue();
  CHECK(fx.http.requests().size() == 2);
  fx.clock.Advance(60s);
  fx.sink.SendDue();
  REQUIRE(fx.http.requests().size() == 4);
  CHECK(JobsIn(fx.http.requests()[3].body) == std::vector<std::string>{"job-1"});
}

TEST_CASE("an alert no longer firing is sent resolved once, a fixed-end one is not") {
  Fixture fx;
  Alert cancelled = MakeAlert("job-2", "RcWatchdogJobCancelled");
  cancelled.ends_at = fx.clock.Now() + 1h;
  fx.sink.Publish({MakeAlert("job-1"), cancelled}, true);
  fx.sink.SendDue();
  REQUIRE(fx.http.requests().size() == 2);
  fx.clock.Advance(5s);
  fx.sink.Publish({}, true);
  CHECK(fx.sink.firing() == 0);
  fx.sink.SendDue();
  REQUIRE(fx.http.requests().size() == 4);
  const std::string& body = fx.http.requests()[2].body;
  CHECK(JobsIn(body) == std::vector<std::string>{"job-1"});
  CHECK(EndsAtIn(body) == FormatTimestampMs(fx.clock.Now()));
  fx.clock.Advance(60s);
  fx.sink.SendDue();
  CHECK(fx.http.requests().size() == 4);  // nothing fires, nothing is re-sent
}

TEST_CASE("an incomplete listing resolves nothing it did not see") {
  Fixture fx;
  fx.sink.Publish({MakeAlert("job-1"), MakeAlert("job-2")}, true);
  fx.sink.SendDue();
  fx.sink.Publish({MakeAlert("job-2")}, false);
  CHECK(fx.sink.firing() == 2);
  CHECK(fx.sink.queued() == 0);
  fx.sink.Publish({MakeAlert("job-2")}, true);
  CHECK(fx.sink.firing() == 1);
  CHECK(fx.sink.queued() == 2);
}

TEST_CASE("a failing Alertmanager keeps its alerts and retries with backoff, the other is served") {
  Fixture fx;
  fx.http.set_handler([](const HttpRequest& r) -> Result<HttpResponse> {
    if (r.url.starts_with("http://am1"))
      return Status(StatusCode::kUnavailable, "connection refused");
    HttpResponse ok;
    ok.status = 200;
    return ok;
  });
  fx.sink.Publish({MakeAlert("job-1")}, true);
  TimePoint next = fx.sink.SendDue();
  CHECK(fx.observer.Count("failed") == 1);
  CHECK(fx.observer.Count("sent") == 1);
  CHECK(fx.sink.queued() == 1);  // am1's
  CHECK(next == fx.clock.Now() + 1s);
  fx.sink.SendDue();  // backing off: nothing sent
  CHECK(fx.http.requests().size() == 2);
  fx.clock.Advance(1s);
  next = fx.sink.SendDue();
  CHECK(fx.http.requests().size() == 3);
  CHECK(next == fx.clock.Now() + 2s);  // doubled
  // am1 is back: the alert (its latest version) arrives.
  fx.http.set_handler([](const HttpRequest&) -> Result<HttpResponse> {
    HttpResponse ok;
    ok.status = 200;
    return ok;
  });
  fx.clock.Advance(2s);
  fx.sink.SendDue();
  REQUIRE(fx.http.requests().size() == 4);
  CHECK(fx.http.requests()[3].url == "http://am1:9093/api/v2/alerts");
  CHECK(JobsIn(fx.http.requests()[3].body) == std::vector<std::string>{"job-1"});
  CHECK(fx.sink.queued() == 0);
}

TEST_CASE("an HTTP error status counts as failed, not sent") {
  Fixture fx;
  fx.http.Respond(400, "bad alert").Respond(200);
  fx.sink.Publish({MakeAlert("job-1")}, true);
  fx.sink.SendDue();
  CHECK(fx.observer.Count("failed") == 1);
  CHECK(fx.observer.Count("sent") == 1);
  CHECK(fx.sink.queued() == 1);
}

TEST_CASE("a queue holds each alert once, overflow drops the oldest and counts it") {
  FakeClock clock;
  FakeHttpClient http;
  http.set_handler([](const HttpRequest&) -> Result<HttpResponse> {
    return Status(StatusCode::kUnavailable, "timeout");
  });
  CountingObserver observer;
  AlertSink sink(http, clock, {{"http://am1:9093"}, 60s}, &observer);
  std::vector<Alert> many;
  for (std::size_t i = 0; i < AlertSink::kQueueLimit + 5; ++i) {
    many.push_back(MakeAlert("job-" + std::to_string(i)));
  }
  sink.Publish(many, true);
  CHECK(sink.queued() == AlertSink::kQueueLimit);
  CHECK(observer.Count("dropped") == 5);
  CHECK(observer.queued == AlertSink::kQueueLimit);
  // Re-sending the firing set replaces queued versions, it does not add.
  clock.Advance(60s);
  sink.SendDue();
  CHECK(sink.queued() == AlertSink::kQueueLimit);
  // The oldest went: the first batch starts at job-5... of the survivors.
  REQUIRE(!http.requests().empty());
  std::vector<std::string> first = JobsIn(http.requests()[0].body);
  REQUIRE(first.size() == AlertSink::kBatch);
}

TEST_CASE("the thread sends what is published and stops when asked") {
  FakeClock clock;
  FakeHttpClient http;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> bodies;
  http.set_handler([&](const HttpRequest& r) -> Result<HttpResponse> {
    {
      std::lock_guard lock(mu);
      bodies.push_back(r.body);
    }
    cv.notify_all();
    HttpResponse ok;
    ok.status = 200;
    return ok;
  });
  CountingObserver observer;
  AlertSink sink(http, clock, {{"http://am1:9093"}, 3600s}, &observer);
  sink.Start();
  sink.Publish({MakeAlert("job-1")}, true);
  {
    std::unique_lock lock(mu);
    REQUIRE(cv.wait_for(lock, 60s, [&] { return bodies.size() >= 1; }));
    CHECK(JobsIn(bodies[0]) == std::vector<std::string>{"job-1"});
  }
  sink.Publish({}, true);  // resolved: sent by the thread too
  {
    std::unique_lock lock(mu);
    REQUIRE(cv.wait_for(lock, 60s, [&] { return bodies.size() >= 2; }));
    CHECK(JobsIn(bodies[1]) == std::vector<std::string>{"job-1"});
  }
  sink.Stop();
  CHECK(observer.Count("sent") == 2);
}
