#include "notify/alert_sink.h"

#include <algorithm>

#include "base/log.h"

namespace rcw {

AlertSink::AlertSink(HttpClient& http, const Clock& clock, Settings settings,
                     NotifyObserver* observer)
    : http_(http), clock_(clock), settings_(std::move(settings)), observer_(observer) {
  for (const std::string& url : settings_.urls) targets_.push_back(Target{url, {}, {}, {}, 0});
  next_resend_ = clock_.Now() + settings_.resend_interval;
}

AlertSink::~AlertSink() { Stop(); }

void AlertSink::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stop_) return;
  thread_ = std::thread([this] { Run(); });
}

void AlertSink::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AlertSink::Publish(std::vector<Alert> firing, bool complete) {
  TimePoint now = clock_.Now();
  bool news = false;
  {
    std::lock_guard lock(mu_);
    std::map<std::string, Alert> next;
    for (Alert& a : firing) {
      std::string key = a.Key();
      auto old = firing_.find(key);
      if (old == firing_.end()) {
        EnqueueLocked(a);
        news = true;
      } else {
        a.starts_at = old->second.starts_at;  // firing since it was first seen
      }
      next.insert_or_assign(std::move(key), std::move(a));
    }
    for (auto& [key, a] : firing_) {
      if (next.count(key)) continue;
      if (!complete) {
        next.emplace(key, std::move(a));  // not seen: cannot tell it ended
      } else if (!a.ends_at) {
        a.ends_at = now;  // resolved
        EnqueueLocked(a);
        news = true;
      }
    }
    firing_ = std::move(next);
    if (news) wake_ = true;
    ReportQueuedLocked();
  }
  if (news) wake_cv_.notify_all();
}

void AlertSink::EnqueueLocked(const Alert& a) {
  std::string key = a.Key();
  for (Target& t : targets_) {
    if (auto it = t.index.find(key); it != t.index.end()) {
      t.queue.erase(it->second);  // the latest version replaces it
    } else if (t.queue.size() >= kQueueLimit) {
      auto oldest = t.queue.begin();
      t.index.erase(oldest->second.Key());
      t.queue.erase(oldest);
      if (observer_) observer_->OnNotifications("dropped", 1);
    }
    t.queue.emplace(++seq_, a);
    t.index[key] = seq_;
  }
}

std::size_t AlertSink::QueuedLocked() const {
  std::size_t n = 0;
  for (const Target& t : targets_) n += t.queue.size();
  return n;
}

void AlertSink::ReportQueuedLocked() {
  if (observer_) observer_->OnNotificationsQueued(QueuedLocked());
}

std::size_t AlertSink::queued() const {
  std::lock_guard lock(mu_);
  return QueuedLocked();
}

std::size_t AlertSink::firing() const {
  std::lock_guard lock(mu_);
  return firing_.size();
}

TimePoint AlertSink::SendDue() {
  TimePoint now = clock_.Now();
  {
    std::lock_guard lock(mu_);
    if (now >= next_resend_) {
      for (const auto& [key, a] : firing_) EnqueueLocked(a);
      next_resend_ = now + settings_.resend_interval;
    }
  }
  for (std::size_t i = 0; i < targets_.size(); ++i) SendTo(i, now);
  std::lock_guard lock(mu_);
  ReportQueuedLocked();
  TimePoint next = next_resend_;
  for (const Target& t : targets_) {
    if (!t.queue.empty()) next = std::min(next, std::max(t.retry_at, now));
  }
  return next;
}

void AlertSink::SendTo(std::size_t i, TimePoint now) {
  std::vector<std::uint64_t> seqs;
  std::vector<Alert> batch;
  std::string url;
  {
    std::lock_guard lock(mu_);
    Target& t = targets_[i];
    if (t.queue.empty() || now < t.retry_at) return;
    for (auto it = t.queue.begin(); it != t.queue.end() && batch.size() < kBatch; ++it) {
      seqs.push_back(it->first);
      batch.push_back(it->second);
    }
    url = t.url;
  }
  HttpRequest request;
  request.method = "POST";
  request.url = url + "/api/v2/alerts";
  request.headers = {{"Content-Type", "application/json"}};
  request.body = EncodeAlerts(batch, now, settings_.resend_interval * kHoldIntervals);
  Result<HttpResponse> r = http_.Send(request);
  bool ok = r.ok() && r.value().status >= 200 && r.value().status < 300;
  std::lock_guard lock(mu_);
  Target& t = targets_[i];
  if (ok) {
    for (std::uint64_t seq : seqs) {
      auto it = t.queue.find(seq);
      if (it == t.queue.end()) continue;  // dropped meanwhile
      t.index.erase(it->second.Key());
      t.queue.erase(it);
    }
    if (t.failures > 0) LogInfo("Alertmanager " + url + " accepts alerts again");
    t.failures = 0;
    t.retry_at = {};
    if (observer_) observer_->OnNotifications("sent", batch.size());
    return;
  }
  // Kept for a retry; a version published meanwhile has replaced its entry.
  if (t.failures == 0) {
    LogWarn("Alertmanager " + url + " refused " + std::to_string(batch.size()) + " alerts: " +
            (r.ok() ? "HTTP " + std::to_string(r.value().status) : r.status().ToString()) +
            "; retrying");
  }
  ++t.failures;
  Seconds backoff = kFirstRetry * (1 << std::min(t.failures - 1, 10));
  t.retry_at = now + std::min(backoff, settings_.resend_interval);
  if (observer_) observer_->OnNotifications("failed", batch.size());
}

void AlertSink::Run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    wake_ = false;
    lock.unlock();
    TimePoint next = SendDue();
    lock.lock();
    if (stop_ || wake_) continue;
    // The clock may be a wall clock that jumps: wait at most one interval.
    auto wait = std::clamp<TimePoint::duration>(next - clock_.Now(), TimePoint::duration::zero(),
                                                settings_.resend_interval);
    wake_cv_.wait_for(lock, wait, [this] { return stop_ || wake_; });
  }
}

}  // namespace rcw
