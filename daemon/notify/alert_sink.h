// AlertSink: sends the firing per-job alerts to every configured Alertmanager
// (POST /api/v2/alerts) on its own thread, off the critical path: Publish
// only swaps a set under a mutex, so neither a slow or unreachable
// Alertmanager nor a full queue ever delays a poll or a DELETE.
//
//  - New alerts go out at once; every firing alert is re-sent each
//    resend_interval with endsAt kHoldIntervals intervals ahead (an
//    Alertmanager that restarted learns them again; if we stop, they end).
//  - An alert that stops firing is sent once more with endsAt = now
//    (resolved), unless it has a fixed end (RcWatchdogJobCancelled).
//  - Each Alertmanager has its own bounded queue of alerts to send, holding
//    the latest version of each alert once; a failed POST keeps them and
//    retries with backoff; overflow drops the oldest, counted as "dropped".
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "api/http_client.h"
#include "base/clock.h"
#include "notify/alert.h"

namespace rcw {

// Metrics hooks (rc_watchdog_notifications_total, _queued); called from the
// sink's thread.
class NotifyObserver {
 public:
  virtual ~NotifyObserver() = default;
  // outcome: sent | failed | dropped; `count` alerts.
  virtual void OnNotifications(std::string_view outcome, std::size_t count) = 0;
  virtual void OnNotificationsQueued(std::size_t queued) = 0;
};

// What the watchdog hands its alerts to (a fake in tests).
class AlertOutbox {
 public:
  virtual ~AlertOutbox() = default;
  // The alerts firing now. With `complete` (every watched job was listed),
  // the firing alerts not in `firing` are resolved; without, they stay.
  virtual void Publish(std::vector<Alert> firing, bool complete) = 0;
};

class AlertSink final : public AlertOutbox {
 public:
  struct Settings {
    std::vector<std::string> urls;  // Alertmanager base URLs
    Seconds resend_interval{60};
  };
  static constexpr int kHoldIntervals = 3;           // endsAt = now + 3 resend intervals
  static constexpr std::size_t kQueueLimit = 10000;  // alerts per Alertmanager
  static constexpr std::size_t kBatch = 500;         // alerts per POST
  static constexpr Seconds kFirstRetry{1};           // backoff after a failure, doubling

  // `http` carries the per-request timeout; `clock` is the host's (endsAt is
  // compared with Alertmanager's clock). All must outlive the sink.
  AlertSink(HttpClient& http, const Clock& clock, Settings settings, NotifyObserver* observer);
  ~AlertSink() override;
  AlertSink(const AlertSink&) = delete;
  AlertSink& operator=(const AlertSink&) = delete;

  void Publish(std::vector<Alert> firing, bool complete) override;

  // Starts the sending thread; Stop (or the destructor) ends and joins it,
  // after the request in flight (bounded by the HTTP timeout).
  void Start();
  void Stop();

  // One round at clock.Now(), on the caller's thread: queues the re-send of
  // every firing alert when due, then sends one batch to each Alertmanager
  // whose queue is not empty and not backing off. Returns when the next
  // round is due. The thread calls it; tests call it directly.
  TimePoint SendDue();

  std::size_t queued() const;  // alerts waiting, summed over the Alertmanagers
  std::size_t firing() const;

 private:
  struct Target {
    std::string url;
    std::map<std::uint64_t, Alert> queue;                  // by sequence: oldest first
    std::unordered_map<std::string, std::uint64_t> index;  // key -> sequence
    TimePoint retry_at{};
    int failures = 0;
  };

  // REQUIRES: mu_ held.
  void EnqueueLocked(const Alert& a);
  void ReportQueuedLocked();
  std::size_t QueuedLocked() const;
  void Run();
  // Sends one batch to target `i`; false when there was nothing to send.
  void SendTo(std::size_t i, TimePoint now);

  HttpClient& http_;
  const Clock& clock_;
  const Settings settings_;
  NotifyObserver* observer_;

  mutable std::mutex mu_;
  std::condition_variable wake_cv_;
  std::map<std::string, Alert> firing_;  // by key
  std::vector<Target> targets_;
  std::uint64_t seq_ = 0;
  TimePoint next_resend_{};
  bool wake_ = false;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace rcw
