// An AuditSink that also tells the journal: every audit event is logged (at
// warn for what needs an operator's eye) after it was written to the audit
// log, so `journalctl -u rc-watchdog` shows enforcement at log level info.
#pragma once

#include <string>
#include <vector>

#include "base/log.h"
#include "state/audit.h"

namespace rcw {

class EchoAuditSink final : public AuditSink {
 public:
  explicit EchoAuditSink(AuditSink& inner) : inner_(inner) {}

  using AuditSink::Append;
  Status Append(const std::vector<AuditEvent>& events) override {
    Status s = inner_.Append(events);
    if (!s.ok()) return s;
    for (const AuditEvent& e : events) Log(LevelOf(e), Describe(e));
    return s;
  }

 private:
  static LogLevel LevelOf(const AuditEvent& e) {
    if (e.event == "cancel_requested" || e.event == "started" || e.event == "stopped") {
      return LogLevel::kDebug;
    }
    if (e.event == "violation" || e.event == "cancel_blocked" ||
        e.event == "budget_exceeded" || e.event == "config_rejected" ||
        (e.event == "cancel_result" && (e.outcome == "failed" || e.outcome == "not_cancellable"))) {
      return LogLevel::kWarn;
    }
    return LogLevel::kInfo;
  }

  static std::string Describe(const AuditEvent& e) {
    std::string out = e.event;
    auto add = [&out](const char* key, const std::string& value) {
      if (!value.empty()) out += std::string(" ") + key + "=" + value;
    };
    add("job", e.job_id);
    add("name", e.name);
    add("policy", e.policy);
    add("limit", e.limit);
    add("outcome", e.outcome);
    if (e.attempt) add("attempt", std::to_string(*e.attempt));
    if (e.http_status) add("http", std::to_string(*e.http_status));
    if (e.dry_run.value_or(false)) out += " (dry run)";
    if (!e.message.empty()) out += ": " + e.message;
    return out;
  }

  AuditSink& inner_;
};

}  // namespace rcw
