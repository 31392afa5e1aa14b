#include "telemetry/listen_address.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <chrono>

namespace rcw {
namespace {

Status BadAddress(std::string_view text) {
  return Status(StatusCode::kInvalidConfig,
                "metrics listen address \"" + std::string(text) +
                    "\" is not HOST:PORT (e.g. 127.0.0.1:9877, [::1]:9877)");
}

}  // namespace

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return BadAddress(text);
  std::string_view host = text.substr(0, colon);
  std::string_view port = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return BadAddress(text);
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return BadAddress(text);  // a bare IPv6 address needs brackets
  }
  ListenAddress out{std::string(host), 0};
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
  if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || out.port < 0 ||
      out.port > 65535) {
    return BadAddress(text);
  }
  return out;
}

void PokeListener(const std::string& host, int port) {
  std::string target = host == "0.0.0.0" ? "127.0.0.1" : host == "::" ? "::1" : host;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  if (getaddrinfo(target.c_str(), service.c_str(), &hints, &found) != 0) return;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    bool connected = connect(fd, a->ai_addr, a->ai_addrlen) == 0;
    close(fd);
    if (connected) break;
  }
  freeaddrinfo(found);
}

ListenerWaker::ListenerWaker(std::string host, int port)
    : thread_([this, host = std::move(host), port] {
        while (!done_.load()) {
          PokeListener(host, port);
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
      }) {}

ListenerWaker::~ListenerWaker() {
  done_.store(true);
  thread_.join();
}

}  // namespace rcw
