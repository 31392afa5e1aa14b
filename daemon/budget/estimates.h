// Processing-unit estimates for jobs that have not reported their PUs yet:
// the API reports executionInfo.processingUnits only once a job has ended
// (reality-conversion-api.md §5), so budgets (count_running) and policies
// (max_processing_units) estimate running jobs from a PU-per-hour rate per
// job type: a fixed rate from `estimates.pu_per_hour`, else a rate learned
// from ended jobs when `estimates.learn` is on.
#pragma once

#include <array>
#include <optional>
#include <vector>

#include "base/clock.h"
#include "base/job.h"
#include "base/ledger_entry.h"
#include "config/config.h"

namespace rcw {

class RateEstimator {
 public:
  // Learned rates are weighted means: a new sample has weight
  // max(1 / samples, kNewSampleWeight), so the first 10 samples are averaged
  // equally and later ones move the rate by a tenth of their difference
  // (a memory of about the last 10 jobs of a type).
  static constexpr double kNewSampleWeight = 0.1;
  // A learned rate is used once this many jobs of the type taught it.
  static constexpr int kMinSamples = 3;
  // Runtime (startedDateTime to endedDateTime) below which a job teaches
  // nothing: its rate would be mostly start-up noise.
  static constexpr Seconds kMinRuntime{60};
  // With kMinSamples or more samples, a sample above this multiple of the
  // current rate is an outlier and ignored, unless kOutliersToAccept of them
  // come in a row for the type (then the rate really changed: the third one
  // is taken as a sample and the run starts over).
  static constexpr double kOutlierFactor = 10;
  static constexpr int kOutliersToAccept = 3;

  // Takes the fixed rates and the learn switch from `config` (copied).
  explicit RateEstimator(const Config& config);
  // After a config reload: new fixed rates and switch, learned rates kept.
  void Reconfigure(const Config& config);

  // Learns from one ended job. Uses only Success jobs of a known type with
  // startedDateTime, endedDateTime, finite processing units >= 0 and a
  // runtime >= kMinRuntime; see kOutlierFactor. Learns even when
  // `estimates.learn` is off (it then only goes unused). Returns true when
  // the job was taken as a sample. Call it once per job, e.g. when
  // Ledger::Record() returned true.
  bool Learn(const Job& job);

  // PUs per hour of Active time: the fixed rate when configured, else the
  // learned one when learning is on and it has kMinSamples samples, else
  // nullopt.
  std::optional<double> RatePerHour(JobType type) const;

  // Processing units of `job` at `now`: the reported ones when present;
  // 0 for a Queued job (it has consumed nothing yet, whether or not a rate is
  // known); otherwise rate x hours from startedDateTime to endedDateTime, or
  // to `now` while it runs (0 hours when it has not started, none when `now`
  // is before the start). nullopt when no rate is known for its type.
  std::optional<double> EstimateProcessingUnits(const Job& job, TimePoint now) const;

  // For persistence: every type with at least one sample, in JobType order.
  std::vector<LearnedRate> Learned() const;
  // Replaces the learned rates with persisted ones; ignores kUnknown types,
  // samples <= 0 and rates that are not finite and >= 0.
  void Restore(const std::vector<LearnedRate>& rates);

 private:
  struct Learning {
    double pu_per_hour = 0;
    int samples = 0;
    int outliers_in_row = 0;  // not persisted
  };

  std::array<std::optional<double>, kJobTypeCount> fixed_{};
  bool learn_ = true;
  std::array<Learning, kJobTypeCount> learned_{};
};

}  // namespace rcw
