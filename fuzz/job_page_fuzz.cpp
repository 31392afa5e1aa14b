// DecodeJobPage (json/decode.h) on any bytes: no crash, every delivered job
// keeps the Job rules, a failure leaves no next page. Both overloads run: the
// vector one must append exactly the jobs the callback one delivers (every
// field, timestamps included: each page shares one date cache), behind the
// jobs already in the vector, and end with the same status and next link.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "json/decode.h"
#include "json_checks.h"

namespace {

bool SameJob(const rcw::Job& a, const rcw::Job& b) {
  return a.id == b.id && a.name == b.name && a.user_id == b.user_id && a.itwin_id == b.itwin_id &&
         a.raw_type == b.raw_type && a.raw_state == b.raw_state && a.type == b.type &&
         a.state == b.state && a.created == b.created && a.started == b.started &&
         a.ended == b.ended && a.processing_units == b.processing_units;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body = rcw::fuzz::AsText(data, size);
  std::vector<rcw::Job> delivered;
  std::optional<std::string> next = "stale";  // must be reset on failure
  rcw::Status s = rcw::DecodeJobPage(
      body,
      [&](rcw::Job&& job) {
        rcw::fuzz::CheckJob(job);
        delivered.push_back(std::move(job));
      },
      next);
  if (!s.ok()) {
    rcw::fuzz::CheckFailure(s);
    RCW_FUZZ_CHECK(!next.has_value());
  }

  std::vector<rcw::Job> appended(1);
  appended[0].id.assign("kept");
  std::optional<std::string> next_too = "stale";
  rcw::Status s_too = rcw::DecodeJobPage(rcw::PaddedJson::Copy(body), appended, next_too);
  RCW_FUZZ_CHECK(s_too.ok() == s.ok() && s_too.message() == s.message());
  RCW_FUZZ_CHECK(next_too == next);
  RCW_FUZZ_CHECK(appended.size() == delivered.size() + 1);
  RCW_FUZZ_CHECK(std::string_view(appended[0].id) == "kept");
  for (size_t i = 0; i < delivered.size(); ++i) {
    RCW_FUZZ_CHECK(SameJob(appended[i + 1], delivered[i]));
  }
  return 0;
}
