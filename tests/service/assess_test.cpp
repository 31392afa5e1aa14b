#include "service/assess.h"

#include <catch2/catch.hpp>

using namespace rcw;

namespace {

Job Ended(const std::string& id, const std::string& itwin) {
  Job j;
  j.id = id;
  j.itwin_id = itwin;
  j.state = JobState::kSuccess;
  return j;
}

struct Fixture {
  Config config;
  PersistentState state;
  Fixture() {
    config.watch.itwins = {"itwin-a", "itwin-b"};
    state.warned.insert({"job-a", "rt", "max_runtime", "itwin-a"});
    state.violated.insert({"job-a", "rt", "finished", "itwin-a"});
    state.violated.insert({"job-b", "rt", "max_runtime", "itwin-b"});
    state.violated.insert({"job-old", "rt", "max_runtime", ""});  // a 0.1.0 state's marker
  }
  void Assess(const std::vector<Job>& jobs, bool complete, std::set<std::string> incomplete) {
    Books books(config);
    (void)rcw::Assess(config, jobs, complete, state, books, TimePoint{}, incomplete);
  }
};

}  // namespace

TEST_CASE("markers are pruned per iTwin: an iTwin that fails forever keeps only its own") {
  Fixture fx;
  // itwin-b answers 403 on every poll; itwin-a is listed whole and job-a ended.
  fx.Assess({Ended("job-a", "itwin-a")}, false, {"itwin-b"});
  CHECK(fx.state.warned.empty());
  CHECK(fx.state.violated.size() == 2);
  CHECK(fx.state.violated.count({"job-b", "rt", "max_runtime", ""}) == 1);
  CHECK(fx.state.violated.count({"job-old", "rt", "max_runtime", ""}) == 1);
  // A complete listing prunes the rest.
  fx.Assess({}, true, {});
  CHECK(fx.state.violated.empty());
}

TEST_CASE("markers of running jobs and of followed jobs wait") {
  Fixture fx;
  Job running = Ended("job-a", "itwin-a");
  running.state = JobState::kActive;
  fx.state.followed.insert("job-b");
  fx.Assess({running}, false, {});  // incomplete: a follow-up GET failed
  CHECK(fx.state.warned.size() == 1);
  CHECK(fx.state.violated.count({"job-a", "rt", "finished", ""}) == 1);
  CHECK(fx.state.violated.count({"job-b", "rt", "max_runtime", ""}) == 1);
}

TEST_CASE("without watch.itwins markers are pruned on complete listings only") {
  Fixture fx;
  fx.config.watch.itwins.clear();
  fx.Assess({}, false, {});
  CHECK(fx.state.violated.size() == 3);
  fx.Assess({}, true, {});
  CHECK(fx.state.violated.empty());
}
