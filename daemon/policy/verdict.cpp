#include "policy/verdict.h"

#include <cstdio>

#include "base/timefmt.h"

namespace rcw {

std::string_view ToString(LimitKind limit) {
  switch (limit) {
    case LimitKind::kMaxRuntime: return "max_runtime";
    case LimitKind::kMaxQueued: return "max_queued";
    case LimitKind::kMaxProcessingUnits: return "max_processing_units";
    case LimitKind::kBudget: return "budget";
  }
  return "budget";
}

namespace {

std::string Units(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string Time(double seconds) { return FormatDuration(Seconds{static_cast<long long>(seconds)}); }

}  // namespace

std::string DescribeFinding(const Finding& f, std::string_view owner_name) {
  std::string cmp = f.severity == Severity::kViolation ? " > " : " nearing ";
  std::string out;
  switch (f.limit) {
    case LimitKind::kMaxRuntime:
      out = "runtime " + Time(f.observed) + cmp + "max_runtime " + Time(f.threshold);
      break;
    case LimitKind::kMaxQueued:
      out = "queued " + Time(f.observed) + cmp + "max_queued " + Time(f.threshold);
      break;
    case LimitKind::kMaxProcessingUnits:
      out = (f.estimated ? "estimated processing units " : "processing units ") +
            Units(f.observed) + cmp + "max_processing_units " + Units(f.threshold);
      break;
    case LimitKind::kBudget:
      out = "budget spent " + Units(f.observed) + (f.estimated ? " (with estimates)" : "") +
            (f.severity == Severity::kViolation ? " >= limit " : " nearing limit ") +
            Units(f.threshold);
      break;
  }
  out += " [";
  out += owner_name;
  out += "]";
  if (f.exempt) out += " (exempt)";
  return out;
}

}  // namespace rcw
