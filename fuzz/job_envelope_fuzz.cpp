// DecodeJobEnvelope (json/decode.h) on any bytes: no crash, a decoded job
// keeps the Job rules.
#include <cstddef>
#include <cstdint>

#include "json/decode.h"
#include "json_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body = rcw::fuzz::AsText(data, size);
  rcw::Result<rcw::Job> job = rcw::DecodeJobEnvelope(body);
  if (job.ok()) {
    rcw::fuzz::CheckJob(*job);
  } else {
    rcw::fuzz::CheckFailure(job.status());
  }
  return 0;
}
