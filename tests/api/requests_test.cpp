#include "api/requests.h"

#include <catch2/catch.hpp>

#include "base/timefmt.h"

using namespace rcw;

TEST_CASE("the filter combines iTwin, creation time and states with and") {
  ListQuery q;
  q.itwin_id = "ce54f773-67db-4b4f-a98b-368329107429";
  q.created_after = *ParseTimestamp("2026-11-22T10:00:00.750Z");
  Result<std::string> f = BuildFilter(q);
  REQUIRE(f.ok());
  CHECK(*f ==
        "iTwinId eq ce54f773-67db-4b4f-a98b-368329107429 and "
        "createdDateTime gt 2026-11-22T10:00:00Z");
  q.states = {JobState::kActive};
  CHECK(*BuildFilter(q) ==
        "iTwinId eq ce54f773-67db-4b4f-a98b-368329107429 and "
        "createdDateTime gt 2026-11-22T10:00:00Z and state eq 'Active'");
  q.itwin_id.reset();
  q.created_after.reset();
  q.states = {JobState::kQueued, JobState::kActive};
  CHECK(*BuildFilter(q) == "state in ('Queued', 'Active')");
  CHECK(*BuildFilter(ListQuery{}) == "");
}

TEST_CASE("the list URL percent-encodes the filter and keeps $ names literal") {
  ListQuery q;
  q.itwin_id = "ce54f773-67db-4b4f-a98b-368329107429";
  q.created_after = *ParseTimestamp("2026-11-22T10:00:00Z");
  Result<std::string> url = BuildListUrl("https://api.bentley.com/reality-conversion", q);
  REQUIRE(url.ok());
  CHECK(*url ==
        "https://api.bentley.com/reality-conversion/jobs?$filter=iTwinId%20eq%20"
        "ce54f773-67db-4b4f-a98b-368329107429%20and%20createdDateTime%20gt%20"
        "2026-11-22T10%3A00%3A00Z&$top=1000");
  q.page_size = 5000;
  CHECK(BuildListUrl("http://h/rc", q)->ends_with("&$top=1000"));
  q.page_size = 0;
  CHECK(BuildListUrl("http://h/rc", q)->ends_with("&$top=1"));
  q.page_size = 50;
  q.states = {JobState::kQueued, JobState::kActive};
  CHECK(BuildListUrl("http://h/rc", q)
            ->find("%20and%20state%20in%20%28%27Queued%27%2C%20%27Active%27%29&$top=50") !=
        std::string::npos);
  CHECK(*BuildListUrl("http://h/rc", ListQuery{}) == "http://h/rc/jobs?$top=1000");
}

TEST_CASE("ids that could inject into a filter or a path are refused") {
  CHECK(IsSafeId("5e315451-564e-4e8b-a952-45b14e6a9c90"));
  CHECK(IsSafeId("ABC-123"));
  for (const char* bad :
       {"", "a b", "a/b", "a?b", "x' or 1 eq 1", "a%2Fb", "..", "a\nb", "\xc3\xa9"}) {
    INFO(bad);
    CHECK_FALSE(IsSafeId(bad));
  }
  CHECK_FALSE(IsSafeId(std::string(129, 'a')));
  CHECK(IsSafeId(std::string(128, 'a')));
  ListQuery q;
  q.itwin_id = "x or iTwinId ne y";
  Result<std::string> f = BuildFilter(q);
  REQUIRE_FALSE(f.ok());
  CHECK(f.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(f.status().message(), Catch::Contains("x or iTwinId ne y"));
  q.itwin_id.reset();
  q.states = {JobState::kUnknown};
  CHECK_FALSE(BuildFilter(q).ok());
}

TEST_CASE("job URLs") {
  CHECK(JobUrl("https://api.bentley.com/reality-conversion", "5e315451-564e") ==
        "https://api.bentley.com/reality-conversion/jobs/5e315451-564e");
}
