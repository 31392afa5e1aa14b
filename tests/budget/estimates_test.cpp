#include "budget/estimates.h"

#include <catch2/catch.hpp>
#include <cmath>

#include "budget_test_util.h"

namespace rcw {
namespace {

using Catch::Detail::Approx;
using test::At;
using test::EndedJob;
using test::JobSpec;
using test::RunningJob;

constexpr JobType kMesh = JobType::kMeshSampling;
constexpr JobType kPc = JobType::kPointCloudConversion;

Config LearningConfig() {
  Config c;
  c.learn_estimates = true;
  return c;
}

// A Success MeshSampling job of `hours` that consumed `pu`.
Job Sample(double pu, double hours = 1, JobSpec spec = {.id = "s"}) {
  return EndedJob(std::move(spec), "2026-11-29T10:00:00Z", pu, hours);
}

TEST_CASE("no rate without fixed rates or samples", "[budget][estimates]") {
  RateEstimator rates(LearningConfig());
  CHECK_FALSE(rates.RatePerHour(kMesh));
  CHECK(rates.Learned().empty());
}

TEST_CASE("learned rate: plain mean of the first samples, used from the third",
          "[budget][estimates]") {
  RateEstimator rates(LearningConfig());
  CHECK(rates.Learn(Sample(10, 1)));      // 10 PU/h
  CHECK(rates.Learn(Sample(40, 2)));      // 20 PU/h
  CHECK_FALSE(rates.RatePerHour(kMesh));  // 2 samples < kMinSamples
  CHECK(rates.Learn(Sample(15, 0.5)));    // 30 PU/h
  REQUIRE(rates.RatePerHour(kMesh));
  CHECK(*rates.RatePerHour(kMesh) == Approx(20));
  CHECK_FALSE(rates.RatePerHour(kPc));
  std::vector<LearnedRate> learned = rates.Learned();
  REQUIRE(learned.size() == 1);
  CHECK(learned[0].type == kMesh);
  CHECK(learned[0].pu_per_hour == Approx(20));
  CHECK(learned[0].samples == 3);
}

TEST_CASE("learned rate: after 10 samples a new one weighs 0.1", "[budget][estimates]") {
  RateEstimator rates(LearningConfig());
  for (int i = 0; i < 10; ++i) REQUIRE(rates.Learn(Sample(10)));
  CHECK(*rates.RatePerHour(kMesh) == Approx(10));
  REQUIRE(rates.Learn(Sample(30)));  // within kOutlierFactor
  CHECK(*rates.RatePerHour(kMesh) == Approx(12));
  REQUIRE(rates.Learn(Sample(0)));  // a free job is a real sample
  CHECK(*rates.RatePerHour(kMesh) == Approx(10.8));
}

TEST_CASE("learning ignores failed, cancelled, short and incomplete jobs", "[budget][estimates]") {
  RateEstimator rates(LearningConfig());
  CHECK_FALSE(rates.Learn(Sample(100, 1, {.id = "f", .state = JobState::kFailed})));
  CHECK_FALSE(rates.Learn(Sample(100, 1, {.id = "c", .state = JobState::kCancelled})));
  CHECK_FALSE(rates.Learn(Sample(100, 59.0 / 3600)));  // 59 s
  CHECK(rates.Learn(Sample(1, 60.0 / 3600)));          // exactly 60 s: 60 PU/h
  Job no_start = Sample(100);
  no_start.started.reset();
  Job no_end = Sample(100);
  no_end.ended.reset();
  Job no_pu = Sample(100);
  no_pu.processing_units.reset();
  Job unknown = Sample(100, 1, {.id = "u", .type = JobType::kUnknown});
  Job nan = Sample(std::nan(""));
  Job negative = Sample(-5);
  for (const Job& j : {no_start, no_end, no_pu, unknown, nan, negative}) {
    CHECK_FALSE(rates.Learn(j));
  }
  REQUIRE(rates.Learned().size() == 1);
  CHECK(rates.Learned()[0].samples == 1);
  CHECK(rates.Learned()[0].pu_per_hour == Approx(60));
}

TEST_CASE("an absurd sample is ignored, a run of them is a real change", "[budget][estimates]") {
  RateEstimator rates(LearningConfig());
  for (int i = 0; i < 10; ++i) REQUIRE(rates.Learn(Sample(10)));
  CHECK_FALSE(rates.Learn(Sample(101)));  // > 10 x 10
  CHECK(*rates.RatePerHour(kMesh) == Approx(10));
  CHECK(rates.Learn(Sample(20)));  // a normal sample resets the run
  CHECK(*rates.RatePerHour(kMesh) == Approx(11));
  CHECK_FALSE(rates.Learn(Sample(1000)));
  CHECK_FALSE(rates.Learn(Sample(1000)));
  CHECK(rates.Learn(Sample(1000)));  // the third in a row is taken
  CHECK(*rates.RatePerHour(kMesh) == Approx(11 + 0.1 * (1000 - 11)));
}

TEST_CASE("outliers are not judged before kMinSamples samples", "[budget][estimates]") {
  RateEstimator rates(LearningConfig());
  REQUIRE(rates.Learn(Sample(1)));
  CHECK(rates.Learn(Sample(1000)));
}

TEST_CASE("a fixed rate wins over a learned one", "[budget][estimates]") {
  Config c = LearningConfig();
  c.pu_per_hour[static_cast<int>(kMesh)] = 12;
  RateEstimator rates(c);
  for (int i = 0; i < 5; ++i) REQUIRE(rates.Learn(Sample(50)));
  CHECK(*rates.RatePerHour(kMesh) == 12);
  CHECK(rates.Learned()[0].pu_per_hour == Approx(50));  // still learned and persisted
}

TEST_CASE("learned rates are unused when learning is off", "[budget][estimates]") {
  Config c;
  c.learn_estimates = false;
  c.pu_per_hour[static_cast<int>(kPc)] = 7;
  RateEstimator rates(c);
  for (int i = 0; i < 5; ++i) REQUIRE(rates.Learn(Sample(50)));
  CHECK_FALSE(rates.RatePerHour(kMesh));
  CHECK(*rates.RatePerHour(kPc) == 7);
  // A reload that turns learning on uses what was learned meanwhile.
  rates.Reconfigure(LearningConfig());
  CHECK(*rates.RatePerHour(kMesh) == Approx(50));
  CHECK_FALSE(rates.RatePerHour(kPc));
}

TEST_CASE("a fixed rate applies to unknown types too", "[budget][estimates]") {
  Config c = LearningConfig();
  c.pu_per_hour[static_cast<int>(JobType::kUnknown)] = 3;
  RateEstimator rates(c);
  CHECK(*rates.RatePerHour(JobType::kUnknown) == 3);
}

TEST_CASE("restore replaces learned rates and skips bad ones", "[budget][estimates]") {
  RateEstimator rates(LearningConfig());
  for (int i = 0; i < 5; ++i) REQUIRE(rates.Learn(Sample(50)));
  rates.Restore({{kPc, 8, 4},
                 {JobType::kUnknown, 9, 9},
                 {JobType::kTileMapOptimization, -1, 9},
                 {JobType::kVectorOptimization, std::nan(""), 9},
                 {JobType::kContextSceneTiler, 5, 0}});
  CHECK_FALSE(rates.RatePerHour(kMesh));
  CHECK(*rates.RatePerHour(kPc) == 8);
  std::vector<LearnedRate> learned = rates.Learned();
  REQUIRE(learned.size() == 1);
  CHECK(learned[0].type == kPc);
  CHECK(learned[0].samples == 4);
  // Learning continues from the restored mean with its weight.
  REQUIRE(rates.Learn(Sample(18, 1, {.id = "p", .type = kPc})));
  CHECK(*rates.RatePerHour(kPc) == Approx(10));
}

TEST_CASE("EstimateProcessingUnits", "[budget][estimates]") {
  Config c = LearningConfig();
  c.pu_per_hour[static_cast<int>(kPc)] = 12;
  RateEstimator rates(c);
  const TimePoint now = At("2026-11-29T12:00:00Z");

  SECTION("reported PUs win") {
    Job j = EndedJob({.id = "e", .type = kPc}, "2026-11-29T11:00:00Z", 5, 3);
    CHECK(*rates.EstimateProcessingUnits(j, now) == 5);
  }
  SECTION("Active: rate x hours since started") {
    Job j = RunningJob({.id = "a", .type = kPc}, "2026-11-29T09:30:00Z");
    CHECK(*rates.EstimateProcessingUnits(j, now) == Approx(30));
  }
  SECTION("Active without startedDateTime: 0") {
    Job j = RunningJob({.id = "a", .type = kPc}, "2026-11-29T09:30:00Z");
    j.started.reset();
    CHECK(*rates.EstimateProcessingUnits(j, now) == 0);
  }
  SECTION("Active with a start after now (clock skew): 0") {
    Job j = RunningJob({.id = "a", .type = kPc}, "2026-11-29T12:05:00Z");
    CHECK(*rates.EstimateProcessingUnits(j, now) == 0);
  }
  SECTION("Queued: 0, with or without a rate") {
    CHECK(*rates.EstimateProcessingUnits(RunningJob({.id = "q", .type = kPc}, ""), now) == 0);
    CHECK(*rates.EstimateProcessingUnits(RunningJob({.id = "q", .type = kMesh}, ""), now) == 0);
  }
  SECTION("no rate: nullopt") {
    Job j = RunningJob({.id = "a", .type = kMesh}, "2026-11-29T09:30:00Z");
    CHECK_FALSE(rates.EstimateProcessingUnits(j, now));
    j.started.reset();
    CHECK_FALSE(rates.EstimateProcessingUnits(j, now));
  }
  SECTION("ended without reported PUs: rate x (ended - started)") {
    Job j = EndedJob({.id = "x", .state = JobState::kCancelled, .type = kPc},
                     "2026-11-29T11:00:00Z", 0, 0.5);
    j.processing_units.reset();
    CHECK(*rates.EstimateProcessingUnits(j, now) == Approx(6));
  }
  SECTION("learned rate once it has enough samples") {
    for (int i = 0; i < 3; ++i) REQUIRE(rates.Learn(Sample(8)));
    Job j = RunningJob({.id = "a", .type = kMesh}, "2026-11-29T10:00:00Z");
    CHECK(*rates.EstimateProcessingUnits(j, now) == Approx(16));
  }
}

}  // namespace
}  // namespace rcw
