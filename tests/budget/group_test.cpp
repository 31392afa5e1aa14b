#include "budget/group.h"

#include <catch2/catch.hpp>
#include <string>

#include "budget/group_index.h"
#include "budget_test_util.h"

namespace rcw {
namespace {

constexpr JobType kMesh = JobType::kMeshSampling;
constexpr JobType kPc = JobType::kPointCloudConversion;

TEST_CASE("GroupKey for jobs and ledger entries", "[budget][group]") {
  Job job = test::MakeJob({.id = "j", .type = kPc, .itwin = "I", .user = "U"});
  CHECK(GroupKey(GroupBy::kItwin, job) == "I");
  CHECK(GroupKey(GroupBy::kUser, job) == "U");
  CHECK(GroupKey(GroupBy::kType, job) == "PointCloudConversion");
  CHECK(GroupKey(GroupBy::kAll, job) == "all");
  job.type = JobType::kUnknown;
  job.raw_type = "HologramBaking";
  CHECK(GroupKey(GroupBy::kType, job) == "Unknown");  // as a ledger entry keeps it
  LedgerEntry e{.job_id = "j", .itwin_id = "I", .user_id = "U", .type = kMesh};
  CHECK(GroupKey(GroupBy::kItwin, e) == "I");
  CHECK(GroupKey(GroupBy::kUser, e) == "U");
  CHECK(GroupKey(GroupBy::kType, e) == "MeshSampling");
  CHECK(GroupKey(GroupBy::kAll, e) == "all");
}

TEST_CASE("a ledger entry matches like the job it was", "[budget][group]") {
  LedgerEntry e{.job_id = "j", .itwin_id = "I", .user_id = "U", .type = kMesh, .name = "nightly-7"};
  MatchSpec m;
  CHECK(Matches(m, e));
  m.types = {kPc, kMesh};
  m.itwins = {"X", "I"};
  m.users = {"U"};
  m.name_regex = test::MakeRegex("^nightly-");
  CHECK(Matches(m, e));
  MatchSpec other_type{.types = {kPc}};
  MatchSpec other_itwin{.itwins = {"X"}};
  MatchSpec other_user{.users = {"V"}};
  MatchSpec other_name{.name_regex = test::MakeRegex("-keep$")};
  CHECK_FALSE(Matches(other_type, e));
  CHECK_FALSE(Matches(other_itwin, e));
  CHECK_FALSE(Matches(other_user, e));
  CHECK_FALSE(Matches(other_name, e));
  e.name.clear();  // an entry persisted before names were kept
  CHECK_FALSE(Matches(m, e));
}

TEST_CASE("GroupIndex numbers keys densely and finds them again", "[budget][group]") {
  GroupIndex index;
  CHECK(index.size() == 0);
  CHECK(index.Of("b") == 0);
  CHECK(index.Of("b") == 0);  // the same key again (memo)
  CHECK(index.Of("a") == 1);
  std::string b = "b";
  CHECK(index.Of(b) == 0);  // equal text elsewhere in memory
  CHECK(index.Of("c") == 2);
  CHECK(index.Of("a") == 1);
  CHECK(index.Of("") == 3);
  REQUIRE(index.size() == 4);
  CHECK(index.Key(0) == "b");
  CHECK(index.Key(1) == "a");
  CHECK(index.Key(2) == "c");
  CHECK(index.Key(3) == "");
  CHECK(index.Of("") == 3);
}

}  // namespace
}  // namespace rcw
