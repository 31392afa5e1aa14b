// An AuditSink that keeps events in memory and can be told to fail.
#pragma once

#include <string>
#include <vector>

#include "state/audit.h"

namespace rcw::testing {

class FakeAuditSink final : public AuditSink {
 public:
  using AuditSink::Append;
  Status Append(const std::vector<AuditEvent>& events) override {
    if (fail) return Status(StatusCode::kUnavailable, "disk full");
    lines.insert(lines.end(), events.begin(), events.end());
    return Status::Ok();
  }

  std::vector<AuditEvent> Of(const std::string& event) const {
    std::vector<AuditEvent> out;
    for (const AuditEvent& e : lines) {
      if (e.event == event) out.push_back(e);
    }
    return out;
  }

  bool fail = false;
  std::vector<AuditEvent> lines;
};

}  // namespace rcw::testing
