// The metrics endpoint's listen address ("127.0.0.1:9877", "[::1]:9877",
// "0.0.0.0:0") and the socket trick the exposer's shutdown needs.
#pragma once

#include <atomic>
#include <string>
#include <string_view>
#include <thread>

#include "base/status.h"

namespace rcw {

struct ListenAddress {
  std::string host;  // without IPv6 brackets; never empty
  int port = 0;      // 0 = any free port
};

// "HOST:PORT" or "[IPV6]:PORT", PORT in 0..65535. kInvalidConfig naming the
// text otherwise.
Result<ListenAddress> ParseListenAddress(std::string_view text);

// Opens and closes one TCP connection to `host` (a wildcard host means
// loopback) on `port`. Best effort: failures are ignored.
void PokeListener(const std::string& host, int port);

// Keeps poking a listener (every 5 ms, on its own thread, joined on
// destruction) while it is alive. Wrap the destruction of a prometheus
// Exposer in one: civetweb's accept loop checks its stop flag only when
// poll() returns, which is every 2 s unless a connection arrives. One poke
// before the stop flag is set is not enough (it is accepted and the loop
// goes back to sleep), so poke until the server is gone: ~40 ms instead of 2 s.
class ListenerWaker {
 public:
  ListenerWaker(std::string host, int port);
  ~ListenerWaker();
  ListenerWaker(const ListenerWaker&) = delete;
  ListenerWaker& operator=(const ListenerWaker&) = delete;

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace rcw
