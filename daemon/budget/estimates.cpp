#include "budget/estimates.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace rcw {
namespace {

double Hours(TimePoint from, TimePoint to) {
  return std::max(0.0, std::chrono::duration<double, std::ratio<3600>>(to - from).count());
}

bool ValidRate(double r) { return std::isfinite(r) && r >= 0; }

std::size_t Index(JobType type) { return static_cast<std::size_t>(type); }

// The PU-per-hour rate an ended job shows, when it may teach one.
std::optional<double> SampleOf(const Job& job) {
  if (job.state != JobState::kSuccess || job.type == JobType::kUnknown || !job.started ||
      !job.ended || !job.processing_units || !ValidRate(*job.processing_units) ||
      *job.ended - *job.started < RateEstimator::kMinRuntime) {
    return std::nullopt;
  }
  double rate = *job.processing_units / Hours(*job.started, *job.ended);
  if (!ValidRate(rate)) return std::nullopt;
  return rate;
}

}  // namespace

RateEstimator::RateEstimator(const Config& config) { Reconfigure(config); }

void RateEstimator::Reconfigure(const Config& config) {
  fixed_ = config.pu_per_hour;
  learn_ = config.learn_estimates;
}

bool RateEstimator::Learn(const Job& job) {
  std::optional<double> sample = SampleOf(job);
  if (!sample) return false;
  Learning& l = learned_[Index(job.type)];
  // One absurd figure (a unit slip, a rounding of a short run) must not
  // inflate estimates enough to cancel innocent jobs; a run of them is a
  // real change.
  if (l.samples >= kMinSamples && l.pu_per_hour > 0 && *sample > kOutlierFactor * l.pu_per_hour &&
      ++l.outliers_in_row < kOutliersToAccept) {
    return false;
  }
  l.outliers_in_row = 0;
  ++l.samples;
  double weight = std::max(1.0 / l.samples, kNewSampleWeight);
  l.pu_per_hour += weight * (*sample - l.pu_per_hour);
  return true;
}

std::optional<double> RateEstimator::RatePerHour(JobType type) const {
  if (fixed_[Index(type)]) return fixed_[Index(type)];
  const Learning& l = learned_[Index(type)];
  if (!learn_ || type == JobType::kUnknown || l.samples < kMinSamples) return std::nullopt;
  return l.pu_per_hour;
}

std::optional<double> RateEstimator::EstimateProcessingUnits(const Job& job, TimePoint now) const {
  if (job.processing_units) return job.processing_units;
  if (job.state == JobState::kQueued) return 0.0;
  std::optional<double> rate = RatePerHour(job.type);
  if (!rate) return std::nullopt;
  if (!job.started) return 0.0;
  return *rate * Hours(*job.started, job.ended.value_or(now));
}

std::vector<LearnedRate> RateEstimator::Learned() const {
  std::vector<LearnedRate> out;
  for (int i = 0; i < kJobTypeCount; ++i) {
    const Learning& l = learned_[i];
    if (l.samples > 0) out.push_back({static_cast<JobType>(i), l.pu_per_hour, l.samples});
  }
  return out;
}

void RateEstimator::Restore(const std::vector<LearnedRate>& rates) {
  learned_ = {};
  for (const LearnedRate& r : rates) {
    if (r.type == JobType::kUnknown || r.samples <= 0 || !ValidRate(r.pu_per_hour)) continue;
    learned_[Index(r.type)] = Learning{r.pu_per_hour, r.samples, 0};
  }
}

}  // namespace rcw
