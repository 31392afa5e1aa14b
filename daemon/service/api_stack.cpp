#include "service/api_stack.h"

#include "base/version.h"

namespace rcw {
namespace {

CurlOptions HttpOptions(const Config& config) {
  CurlOptions o;
  o.timeout = config.api.timeout;
  o.ca_file = config.api.ca_file;
  o.user_agent = std::string("rc-watchdog/") + kVersion;
  return o;
}

TokenOptions Credentials(const Config& config) {
  TokenOptions o;
  o.token_url = config.auth.token_url;
  o.client_id = config.auth.client_id;
  o.client_secret = config.auth.client_secret;
  o.scope = config.auth.scope;
  return o;
}

}  // namespace

ApiStack::ApiStack(const Config& config, const Clock& clock, ApiObserver* observer)
    : http_(HttpOptions(config)),
      gate_(clock, GateOptions{config.api.max_requests_per_minute, config.api.max_requests_per_hour}),
      tokens_(http_, clock, gate_, observer, Credentials(config)),
      client_(http_, tokens_, gate_, clock, observer, ClientOptions{config.api.base_url}) {}

}  // namespace rcw
