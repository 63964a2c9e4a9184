#pragma once
// An event-driven HTTP/1.1 server for hostile networks (Boost.Beast over Asio): a few I/O threads
// hold every connection, and a separate pool runs the routes' handlers, so a slow or idle client
// costs a socket and a small buffer, never a thread. What a client can make it spend is bounded:
//   - the request head: its bytes and its number of fields (431 beyond);
//   - the body: its bytes, chunked ones counted as they arrive (413 beyond);
//   - time: one deadline for the whole head and body from its first byte, an idle timeout for a
//     keep-alive connection waiting for its next request, a timeout per answer written;
//   - connections: beyond the cap a new one is closed at once.
// A refused request is answered (JSON, through the hooks) and its connection closed after a short
// linger that lets the client read the answer. stop() drains: it stops accepting, closes idle and
// half-read connections at once, answers every request already read with `Connection: close`,
// and after the drain timeout closes whatever is left, so serve() returns within it.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace relmoe {

struct HttpLimits {
  std::size_t max_header_bytes = 16 << 10;
  std::size_t max_header_fields = 100;
  std::size_t max_body_bytes = 4 << 20;
  std::size_t max_connections = 512;
  std::chrono::milliseconds request_timeout{10000};  // the whole head and body
  std::chrono::milliseconds idle_timeout{5000};      // keep-alive, between requests
  std::chrono::milliseconds write_timeout{10000};    // one answer
  std::chrono::milliseconds drain_timeout{5000};     // stop() to the last connection closed
};

struct HttpRequest {
  std::string method, path, body;  // path without its query string
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpHooks {
  // The answer to a request the server itself refuses (status and why).
  std::function<HttpResponse(int status, const std::string& message)> error;
  // Called for every answer written: the route ("unmatched" when none), its status and the
  // seconds since the request's first byte.
  std::function<void(const std::string& route, int status, double seconds)> answered;
  // Called for each connection closed at once because the cap was reached.
  std::function<void()> connection_refused;
};

class HttpServer {
 public:
  HttpServer(HttpLimits limits, HttpHooks hooks, int io_threads, int handler_threads);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Before bind(). Handlers run on the handler pool; an exception becomes a 500.
  void route(const std::string& method, const std::string& path, HttpHandler handler);
  // Binds and listens; returns the port (the chosen one when `port` is 0).
  int bind(const std::string& host, int port);
  // Serves until stop() and the drain are done.
  void serve();
  // Thread-safe and idempotent; callable before serve().
  void stop();
  std::int64_t open_connections() const;

 private:
  class Session;
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace relmoe
