// The loop: poll -> evaluate -> enforce -> record -> notify -> wait, with
// signals waited for in the same call as the next deadline (sigtimedwait).
#include "service/daemon.h"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <memory>

#include "base/log.h"
#include "config/loader.h"
#include "service/api_stack.h"
#include "service/notifier.h"
#include "service/observers.h"
#include "service/watchdog.h"
#include "telemetry/log_sink.h"

namespace rcw {
namespace {

constexpr int kExitOk = 0, kExitFailure = 1, kExitConfig = 78;

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

class Service {
 public:
  Service(const RunOptions& options, std::shared_ptr<const Config> config)
      : options_(options), config_(std::move(config)), clock_(local_clock_),
        store_(config_->state_directory), notifier_(MakeSystemdNotifier()) {}

  int Run();

 private:
  int Start();
  void Loop();
  void DrainOnce(TimePoint poll_started);
  void Reload();
  void Notify(const std::string& text) { notifier_->Notify(text); }
  void PingWatchdog();

  RunOptions options_;
  std::shared_ptr<const Config> config_;
  SystemClock local_clock_;
  CorrectedClock clock_;
  StateStore store_;
  std::unique_ptr<Notifier> notifier_;
  std::unique_ptr<LogSink> log_sink_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<MetricsBridge> bridge_;
  std::unique_ptr<FileAuditLog> audit_;
  std::unique_ptr<ApiStack> api_;
  std::unique_ptr<Watchdog> watchdog_;
  bool stop_ = false;
  TimePoint next_ping_{};
};

int Service::Start() {
  ApplyLogging(*config_, log_sink_);
  if (Status s = store_.Prepare(); !s.ok()) return LogError(s.ToString()), kExitFailure;
  Result<PersistentState> state = store_.Load();
  if (!state.ok()) return LogError(state.status().ToString()), kExitFailure;
  auto audit = FileAuditLog::Open(store_.AuditPath());
  if (!audit.ok()) return LogError(audit.status().ToString()), kExitFailure;
  audit_ = std::move(*audit);
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
  watchdog_ = std::make_unique<Watchdog>(api_->client(), *audit_, store_, clock_, metrics_.get(),
                                         bridge_.get(), std::move(*state), config_,
                                         options_.dry_run);
  std::string mode = watchdog_->dry_run() ? " (dry run: nothing will be cancelled)" : "";
  LogInfo("rc-watchdog started: " + std::to_string(config_->policies.size()) + " policies, " +
          std::to_string(config_->budgets.size()) + " budgets" + mode);
  if (Status s = watchdog_->AuditEvent("started", "config " + config_->path + mode); !s.ok()) {
    LogError(s.ToString());
    return kExitFailure;
  }
  return kExitOk;
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
    config_ = fresh;
    watchdog_->SetConfig(config_);
    SetLogLevel(config_->log_level);
    metrics_->ConfigReloaded(true, clock_.Now());
    LogInfo("config reloaded from " + config_->path);
    (void)watchdog_->AuditEvent("config_loaded", "reloaded " + config_->path);
  }
  Notify("READY=1");
}

void Service::Loop() {
  bool ready = false;
  TimePoint next_poll = clock_.Now();
  while (!stop_) {
    PingWatchdog();
    if (clock_.Now() >= next_poll) {
      TimePoint started = clock_.Now();
      CycleSummary s = watchdog_->Cycle();
      next_poll = started + config_->watch.poll_interval;
      std::string status = "STATUS=" + s.ToString(watchdog_->pending());
      Notify(ready ? status : "READY=1\n" + status);
      ready = true;
      if (!s.error.empty()) LogWarn(s.ToString(watchdog_->pending()));
      if (options_.once) return DrainOnce(started);
    } else if (auto deadline = watchdog_->NextDeadline(); deadline && *deadline <= clock_.Now()) {
      watchdog_->CheckDeadline();
    } else if (auto due = watchdog_->NextDue(); due && *due <= clock_.Now()) {
      (void)watchdog_->RunDue();
    }
    TimePoint wake = next_poll;
    if (auto due = watchdog_->NextDue()) wake = std::min(wake, std::max(*due, clock_.Now()));
    if (auto deadline = watchdog_->NextDeadline()) wake = std::min(wake, *deadline);
    if (notifier_->WatchdogInterval()) wake = std::min(wake, clock_.Now() + *notifier_->WatchdogInterval() / 2);
    int sig = WaitForSignal(clock_, wake);
    if (sig == SIGHUP) Reload();
    if (sig == SIGTERM || sig == SIGINT) stop_ = true;
  }
}

// --once: waits for the DELETEs this cycle started, as long as the data they
// were decided on is fresh (one poll interval) and no signal says stop.
void Service::DrainOnce(TimePoint poll_started) {
  TimePoint bound = poll_started + config_->watch.poll_interval;
  while (!stop_) {
    std::optional<TimePoint> due = watchdog_->NextDue();
    if (!due || *due > bound) return;
    int sig = WaitForSignal(clock_, *due);
    if (sig == SIGTERM || sig == SIGINT) return;
    (void)watchdog_->RunDue();
  }
}

int Service::Run() {
  if (int rc = Start(); rc != kExitOk) return rc;
  Loop();
  Notify("STOPPING=1");
  LogInfo("stopping: " + std::to_string(watchdog_->pending()) + " cancellations pending, saved");
  Status saved = watchdog_->Save();
  (void)watchdog_->AuditEvent("stopped", std::to_string(watchdog_->pending()) +
                                             " cancellations pending, state saved");
  return saved.ok() ? kExitOk : kExitFailure;
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
