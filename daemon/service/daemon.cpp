// The loop: poll -> evaluate -> enforce -> record -> notify -> wait, with
// signals waited for in the same call as the next deadline (sigtimedwait).
#include "service/daemon.h"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <memory>
#include <tuple>

#include "base/log.h"
#include "base/timefmt.h"
#include "config/loader.h"
#include "service/api_stack.h"
#include "service/echo_audit.h"
#include "service/notifier.h"
#include "service/observers.h"
#include "service/signal_waiter.h"
#include "service/watchdog.h"
#include "telemetry/log_sink.h"

namespace rcw {
namespace {

constexpr int kExitOk = 0, kExitFailure = 1, kExitTempFail = 75, kExitConfig = 78;

sigset_t HandledSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

// Waits until `deadline` or a handled signal; returns the signal or 0.
int WaitForSignal(const Clock& clock, TimePoint deadline) {
  sigset_t set = HandledSignals();
  auto left = std::max<Millis>(Millis{0}, std::chrono::ceil<Millis>(deadline - clock.Now()));
  left = std::min<Millis>(left, Millis{3600 * 1000});
  timespec ts{static_cast<time_t>(left.count() / 1000), static_cast<long>(left.count() % 1000) * 1000000L};
  int sig = sigtimedwait(&set, nullptr, &ts);
  return sig > 0 ? sig : 0;
}

std::shared_ptr<const Config> Load(const std::string& path, std::string& errors) {
  LoadResult r = LoadConfigFile(path);
  if (r.ok()) return std::make_shared<const Config>(std::move(*r.config));
  for (const ConfigError& e : r.errors) errors += e.ToString() + "\n";
  return nullptr;
}

void ApplyLogging(const Config& config, std::unique_ptr<LogSink>& sink) {
  sink = MakeLogSink(config.log_format, StderrIsJournal());
  SetLogSink(sink.get());
  SetLogLevel(config.log_level);
}

// Sections that a reload cannot apply (the API client, the metrics endpoint
// and the state directory are built once at start).
void WarnRestartOnly(const Config& running, const Config& fresh) {
  std::string changed;
  auto note = [&changed](bool differs, const char* what) {
    if (differs) changed += changed.empty() ? what : std::string(", ") + what;
  };
  note(running.api.base_url != fresh.api.base_url || running.api.timeout != fresh.api.timeout ||
           running.api.ca_file != fresh.api.ca_file ||
           running.api.max_requests_per_minute != fresh.api.max_requests_per_minute,
       "api");
  note(running.auth.token_url != fresh.auth.token_url ||
           running.auth.client_id != fresh.auth.client_id ||
           running.auth.client_secret != fresh.auth.client_secret ||
           running.auth.scope != fresh.auth.scope,
       "auth");
  note(running.metrics_listen != fresh.metrics_listen, "metrics");
  note(running.state_directory != fresh.state_directory, "state");
  note(running.log_format != fresh.log_format, "log.format");
  // The Alertmanager client is built at start; labels and owners reload.
  auto alertmanagers = [](const Config& c) {
    return c.notify ? std::make_tuple(c.notify->urls, c.notify->timeout, c.notify->resend_interval)
                    : std::make_tuple(std::vector<std::string>{}, Seconds{0}, Seconds{0});
  };
  note(alertmanagers(running) != alertmanagers(fresh), "notify.alertmanager");
  if (!changed.empty()) {
    LogWarn("reload: changes to " + changed + " take effect only after a restart");
  }
}

class Service {
 public:
  Service(const RunOptions& options, std::shared_ptr<const Config> config)
      : options_(options), config_(std::move(config)), clock_(local_clock_),
        store_(config_->state_directory), notifier_(MakeSystemdNotifier()) {}

  int Run();

 private:
  int Start();
  void Loop();
  bool Progress();
  TimePoint ToLocal(TimePoint corrected) const;
  // --once: finishes what the first cycle started; returns the exit code.
  int FinishOnce(TimePoint started_local, CycleSummary last);
  void Reload();
  void Notify(const std::string& text) { notifier_->Notify(text); }
  void PingWatchdog();
  void StartAlerts(const NotifyConfig& n);
  void StopAlerts();

  RunOptions options_;
  std::shared_ptr<const Config> config_;
  SystemClock local_clock_;
  CorrectedClock clock_;
  StateStore store_;
  std::unique_ptr<Notifier> notifier_;
  std::unique_ptr<LogSink> log_sink_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<MetricsBridge> bridge_;
  // notify: the Alertmanager client and its sending thread. Declared before
  // the watchdog that publishes to it, so destroyed (stopped) after it.
  std::unique_ptr<CurlHttpClient> alert_http_;
  std::unique_ptr<AlertSink> alerts_;
  std::unique_ptr<FileAuditLog> audit_;
  std::unique_ptr<EchoAuditSink> echo_;
  // Rate-limit waits of a listing: SIGTERM/SIGINT end them (and stay pending).
  SignalWaiter waiter_{[this] { PingWatchdog(); }};
  std::unique_ptr<ApiStack> api_;
  std::unique_ptr<Watchdog> watchdog_;
  bool stop_ = false;
  bool ready_ = false;
  int once_exit_ = kExitOk;
  TimePoint next_ping_{};
};

int Service::Start() {
  ApplyLogging(*config_, log_sink_);
  if (Status s = store_.Prepare(); !s.ok()) return LogError(s.ToString()), kExitFailure;
  // The ledger is read as the polls need it (Watchdog::EnsureLedger).
  Result<PersistentState> state = store_.Load(/*ledger=*/false);
  if (!state.ok()) {
    LogError(state.status().ToString());
    // A database from a newer rc-watchdog is a configuration matter (78);
    // a corrupt or unreadable one a failure (1). Neither is re-created.
    return state.status().code() == StatusCode::kInvalidConfig ? kExitConfig : kExitFailure;
  }
  auto audit = FileAuditLog::Open(store_.AuditPath());
  if (!audit.ok()) return LogError(audit.status().ToString()), kExitFailure;
  audit_ = std::move(*audit);
  echo_ = std::make_unique<EchoAuditSink>(*audit_);
  auto metrics = Metrics::Create(options_.once ? "" : config_->metrics_listen);
  if (!metrics.ok()) {
    LogError("metrics.listen " + config_->metrics_listen + ": " + metrics.status().ToString());
    return kExitFailure;
  }
  metrics_ = std::move(*metrics);
  metrics_->ConfigReloaded(true, clock_.Now());
  if (metrics_->port() > 0) {
    std::string host = config_->metrics_listen.substr(0, config_->metrics_listen.rfind(':'));
    LogInfo("metrics on http://" + host + ":" + std::to_string(metrics_->port()) + "/metrics");
  }
  bridge_ = std::make_unique<MetricsBridge>(metrics_.get(), clock_);
  api_ = std::make_unique<ApiStack>(*config_, local_clock_, bridge_.get());
  api_->client().SetWaiter(&waiter_);
  watchdog_ = std::make_unique<Watchdog>(api_->client(), *echo_, store_, clock_, metrics_.get(),
                                         bridge_.get(), std::move(*state), config_,
                                         options_.dry_run);
  if (config_->notify) StartAlerts(*config_->notify);
  std::string mode = watchdog_->dry_run() ? " (dry run: nothing will be cancelled)" : "";
  LogInfo("rc-watchdog started: " + std::to_string(config_->policies.size()) + " policies, " +
          std::to_string(config_->budgets.size()) + " budgets" + mode);
  if (Status s = watchdog_->AuditEvent("started", "config " + config_->path + mode); !s.ok()) {
    LogError(s.ToString());
    return kExitFailure;
  }
  return kExitOk;
}

// Signals are blocked before this thread starts (RunDaemon), so it never
// takes one meant for the loop.
void Service::StartAlerts(const NotifyConfig& n) {
  CurlOptions o;
  o.timeout = n.timeout;
  o.connect_timeout = std::min(n.timeout, o.connect_timeout);
  o.max_body_bytes = 1u << 20;  // Alertmanager answers with a few bytes
  alert_http_ = std::make_unique<CurlHttpClient>(o);
  alerts_ = std::make_unique<AlertSink>(*alert_http_, local_clock_,
                                        AlertSink::Settings{n.urls, n.resend_interval},
                                        bridge_.get());
  alerts_->Start();
  watchdog_->SetAlerts(alerts_.get());
  LogInfo("notify: alerts go to " + std::to_string(n.urls.size()) + " Alertmanager(s)");
}

// At exit: the thread is stopped, then what is still queued (resolved
// alerts, new notices) gets one last try, bounded by notify's timeout.
void Service::StopAlerts() {
  if (!alerts_) return;
  alerts_->Stop();
  if (alerts_->queued() > 0) alerts_->SendDue();
}

void Service::PingWatchdog() {
  std::optional<Millis> interval = notifier_->WatchdogInterval();
  if (!interval) return;
  TimePoint now = local_clock_.Now();
  if (now < next_ping_) return;
  Notify("WATCHDOG=1");
  next_ping_ = now + *interval / 2;
}

void Service::Reload() {
  Notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(MonotonicMicros()));
  std::string errors;
  std::shared_ptr<const Config> fresh = Load(options_.config_path, errors);
  if (!fresh) {
    LogError("reload rejected, keeping the running config:\n" + errors);
    metrics_->ConfigReloaded(false, clock_.Now());
    (void)watchdog_->AuditEvent("config_rejected", errors);
  } else {
    WarnRestartOnly(*config_, *fresh);
    config_ = fresh;
    watchdog_->SetConfig(config_);
    SetLogLevel(config_->log_level);
    metrics_->ConfigReloaded(true, clock_.Now());
    LogInfo("config reloaded from " + config_->path);
    (void)watchdog_->AuditEvent("config_loaded", "reloaded " + config_->path);
  }
  Notify("READY=1");
}

// Called after each listing and each DELETE: progress for systemd's
// watchdog, READY=1 as soon as the first poll is done (not after its
// cancellations), and false when SIGTERM/SIGINT is waiting.
bool Service::Progress() {
  PingWatchdog();
  if (!ready_) {
    Notify("READY=1\nSTATUS=" + watchdog_->status());
    ready_ = true;
  }
  sigset_t pending;
  sigemptyset(&pending);
  sigpending(&pending);
  return !sigismember(&pending, SIGTERM) && !sigismember(&pending, SIGINT);
}

// Work is scheduled on the local clock: the API's Date correction moves the
// watchdog's "now", but must not make polls come early or late.
TimePoint Service::ToLocal(TimePoint corrected) const { return corrected - clock_.offset(); }

void Service::Loop() {
  watchdog_->SetProgress([this] { return Progress(); });
  TimePoint next_poll = local_clock_.Now();
  while (!stop_) {
    PingWatchdog();
    TimePoint now = local_clock_.Now();
    std::optional<TimePoint> deadline = watchdog_->NextDeadline();
    std::optional<TimePoint> due = watchdog_->NextDue();
    if (now >= next_poll) {
      CycleSummary s = watchdog_->Cycle();
      next_poll = now + config_->watch.poll_interval;
      Progress();  // READY=1 even when the cycle failed before its listing
      Notify("STATUS=" + s.ToString(watchdog_->pending()));
      if (!s.error.empty()) LogWarn(s.ToString(watchdog_->pending()));
      if (options_.once) {
        once_exit_ = FinishOnce(now, s);
        return;
      }
    } else if (deadline && ToLocal(*deadline) <= now) {
      watchdog_->CheckDeadline();
    } else if (due && ToLocal(*due) <= now) {
      (void)watchdog_->RunDue();
    }
    now = local_clock_.Now();
    TimePoint wake = next_poll;
    if ((due = watchdog_->NextDue())) wake = std::min(wake, std::max(ToLocal(*due), now));
    if ((deadline = watchdog_->NextDeadline())) wake = std::min(wake, ToLocal(*deadline));
    if (auto ping = notifier_->WatchdogInterval()) wake = std::min(wake, now + *ping / 2);
    int sig = WaitForSignal(local_clock_, wake);
    if (sig == SIGHUP) Reload();
    if (sig == SIGTERM || sig == SIGINT) stop_ = true;
  }
}

// --once: every cancellation the run decided on gets a final outcome. A
// retry that is due while the data is fresh is sent; one that would go out on
// data older than one poll interval waits for a new poll, taken when the
// retry comes due (but not sooner than a poll interval after the last poll:
// a rate limit is not met with a request storm).
int Service::FinishOnce(TimePoint started_local, CycleSummary last) {
  TimePoint deadline = started_local + options_.max_wait;
  TimePoint last_poll = started_local;
  while (!stop_ && watchdog_->unsent() > 0) {
    TimePoint now = local_clock_.Now();
    if (now >= deadline) break;
    std::optional<TimePoint> due = watchdog_->NextDue();
    bool repoll = !due;
    TimePoint wake = due ? ToLocal(*due) : now;
    if (repoll) {
      std::optional<TimePoint> attempt = watchdog_->NextAttempt();
      wake = std::max(attempt ? ToLocal(*attempt) : now, last_poll + config_->watch.poll_interval);
    }
    int sig = WaitForSignal(local_clock_, std::min(wake, deadline));
    if (sig == SIGTERM || sig == SIGINT) stop_ = true;
    if (stop_ || local_clock_.Now() < wake) continue;  // a signal, or the deadline
    if (repoll) {
      last_poll = local_clock_.Now();
      last = watchdog_->Cycle();
    } else {
      (void)watchdog_->RunDue();
    }
  }
  std::string left;
  if (std::size_t n = watchdog_->unsent()) {
    left = std::to_string(n) + " cancellations without a final outcome after " +
           FormatDuration(std::chrono::duration_cast<Seconds>(local_clock_.Now() - started_local));
  }
  // Violators the safety limits held back are still running: the next run
  // (or the next poll of a daemon) takes them. Incomplete data is the line
  // below.
  std::string held;
  std::size_t held_count = 0;
  for (const auto& [reason, n] : watchdog_->held_back()) {
    if (reason == "incomplete_data" || watchdog_->dry_run()) continue;
    held_count += n;
    held += (held.empty() ? "" : ", ") + reason + " " + std::to_string(n);
  }
  if (held_count > 0) {
    left += (left.empty() ? "" : "; ") + std::to_string(held_count) +
            " violators held back by the safety limits (" + held + ")";
  }
  if (!last.complete || !last.error.empty()) {
    left += (left.empty() ? "" : "; ") + std::string("last poll incomplete: ") +
            (last.error.empty() ? "listing incomplete" : last.error);
  }
  if (left.empty()) return kExitOk;
  LogError("run --once: work left (exit 75): " + left);
  return kExitTempFail;
}

int Service::Run() {
  if (int rc = Start(); rc != kExitOk) return rc;
  Loop();
  Notify("STOPPING=1");
  LogInfo("stopping: " + std::to_string(watchdog_->pending()) + " cancellations pending, saved");
  Status saved = watchdog_->Save();
  StopAlerts();
  (void)watchdog_->AuditEvent("stopped", std::to_string(watchdog_->pending()) +
                                             " cancellations pending, state saved");
  if (!saved.ok()) return kExitFailure;
  return options_.once ? once_exit_ : kExitOk;
}

}  // namespace

int RunDaemon(const RunOptions& options) {
  sigset_t set = HandledSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::string errors;
  std::shared_ptr<const Config> config = Load(options.config_path, errors);
  if (!config) {
    LogError("configuration rejected:\n" + errors);
    return kExitConfig;
  }
  Service service(options, config);
  return service.Run();
}

}  // namespace rcw
