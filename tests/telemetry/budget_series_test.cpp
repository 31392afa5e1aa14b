#include "telemetry/budget_series.h"

#include <catch2/catch.hpp>

namespace rcw {
namespace {

using Key = BudgetSeries::SpentKey;

TEST_CASE("End returns the spent series not set since Begin") {
  BudgetSeries s;
  s.Begin();
  s.Spent("daily", "a");
  s.Spent("daily", "b");
  CHECK(s.End().empty());
  s.Begin();
  s.Spent("daily", "b");
  CHECK(s.End() == std::vector<Key>{{"daily", "a"}});
  s.Begin();  // a is forgotten: only b can go stale now
  CHECK(s.End() == std::vector<Key>{{"daily", "b"}});
}

TEST_CASE("End without Begin removes nothing") {
  BudgetSeries s;
  s.Spent("daily", "a");
  CHECK(s.End().empty());
  s.Begin();
  CHECK(s.End().size() == 1);
  CHECK(s.End().empty());  // a second End closes nothing
}

TEST_CASE("Retain drops the series of budgets no longer configured") {
  BudgetSeries s;
  s.Spent("keep", "x");
  s.Spent("gone", "x");
  s.Spent("gone", "y");
  s.Limit("keep");
  s.Limit("gone");
  BudgetSeries::Dropped d = s.Retain({"keep"});
  CHECK(d.spent == std::vector<Key>{{"gone", "x"}, {"gone", "y"}});
  CHECK(d.limits == std::vector<std::string>{"gone"});
  d = s.Retain({"keep"});
  CHECK(d.spent.empty());
  CHECK(d.limits.empty());
  d = s.Retain({});
  CHECK(d.spent == std::vector<Key>{{"keep", "x"}});
  CHECK(d.limits == std::vector<std::string>{"keep"});
}

}  // namespace
}  // namespace rcw
