// The HTTP layer under hostile clients, on a loopback port with raw sockets: a chunked flood, a
// header flood, slow and idle sockets beside a normal client, the connection cap, and the drain
// on stop() with keep-alive clients, slow sockets and a client that never reads its answer.
#include "serve/http_server.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace relmoe {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double ms_between(Clock::time_point start, Clock::time_point end) {
  return std::chrono::duration<double, std::milli>(end - start).count();
}
double ms_since(Clock::time_point start) { return ms_between(start, Clock::now()); }

// The process's resident memory now (kB).
long rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

class Socket {
 public:
  explicit Socket(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    timeval five{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &five, sizeof five);
  }
  ~Socket() { ::close(fd_); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  bool connected() const { return connected_; }
  // False once the server has closed the connection (or a send timed out).
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  // One answer (head and Content-Length body), or what came before the connection closed or
  // `timeout` passed. Bytes after it stay for the next call.
  std::string answer(std::chrono::milliseconds timeout = 10s) {
    const auto deadline = Clock::now() + timeout;
    while (true) {
      const auto head_end = got_.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        const auto at = got_.find("Content-Length: ");
        const std::size_t length = at == std::string::npos || at > head_end ? 0 : std::stoul(got_.substr(at + 16));
        if (got_.size() >= head_end + 4 + length) {
          auto one = got_.substr(0, head_end + 4 + length);
          got_.erase(0, one.size());
          return one;
        }
      }
      char buffer[65536];
      if (!readable(deadline)) break;
      const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      got_.append(buffer, static_cast<std::size_t>(n));
    }
    return std::exchange(got_, {});
  }
  // The server closed the connection within `timeout` (end of stream or a reset).
  bool closed_within(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    char buffer[4096];
    while (readable(deadline)) {
      const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) return true;
    }
    return false;
  }

 private:
  bool readable(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(left)) > 0;
  }
  int fd_;
  bool connected_ = false;
  std::string got_;
};

std::string post(const std::string& path, const std::string& body, const std::string& extra = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra +
         "\r\n" + body;
}

int status_of(const std::string& answer) { return answer.size() > 12 ? std::stoi(answer.substr(9, 3)) : 0; }

class HttpServerTest : public ::testing::Test {
 protected:
  void start(HttpLimits limits, int handler_threads = 8) {
    HttpHooks hooks;
    hooks.error = [](int status, const std::string& message) {
      return HttpResponse{status, "{\"error\": \"" + message + "\"}", "application/json", {}};
    };
    hooks.answered = [this](const std::string& route, int status, double) {
      if (status >= 400) ++refused_;
    };
    hooks.connection_refused = [this] { ++refused_connections_; };
    server_ = std::make_unique<HttpServer>(limits, hooks, 2, handler_threads);
    server_->route("POST", "/echo", [](const HttpRequest& r) {
      return HttpResponse{200, std::to_string(r.body.size()), "text/plain", {}};
    });
    server_->route("POST", "/slow", [this](const HttpRequest&) {
      ++in_slow_;
      std::this_thread::sleep_for(400ms);
      return HttpResponse{200, "done", "text/plain", {}};
    });
    server_->route("POST", "/big", [](const HttpRequest&) {
      return HttpResponse{200, std::string(64 << 20, 'x'), "text/plain", {}};
    });
    port_ = server_->bind("127.0.0.1", 0);
    thread_ = std::thread([this] {
      server_->serve();
      served_until_ = Clock::now();
    });
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
  }
  // One /echo on a new connection: its status, and the time it took.
  std::pair<int, double> echo() {
    const auto start = Clock::now();
    Socket s(port_);
    s.send(post("/echo", "hello"));
    const auto a = s.answer(5s);
    return {status_of(a), ms_since(start)};
  }

  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> refused_{0}, refused_connections_{0}, in_slow_{0};
  Clock::time_point served_until_;
};

TEST_F(HttpServerTest, AnswersRoutesPipelinedRequestsAndExpectContinue) {
  start({});
  Socket s(port_);
  ASSERT_TRUE(s.connected());
  // Two requests in one write: two answers, in order, on the same connection.
  ASSERT_TRUE(s.send(post("/echo", "abc") + post("/echo", "abcdef")));
  auto a = s.answer();
  EXPECT_EQ(status_of(a), 200) << a;
  EXPECT_EQ(a.substr(a.size() - 1), "3");
  a = s.answer();
  EXPECT_EQ(a.substr(a.size() - 1), "6") << a;
  // curl sends large bodies after "100 Continue".
  ASSERT_TRUE(s.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
  EXPECT_EQ(status_of(s.answer()), 100);
  ASSERT_TRUE(s.send("abcd"));
  a = s.answer();
  EXPECT_EQ(status_of(a), 200) << a;
  // Unknown routes and methods, and bytes that are not HTTP, get their status and a JSON error.
  ASSERT_TRUE(s.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
  a = s.answer();
  EXPECT_EQ(status_of(a), 405) << a;
  EXPECT_NE(a.find("\"error\""), std::string::npos) << a;
  EXPECT_TRUE(s.closed_within(2s));
  Socket t(port_);
  t.send("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(status_of(t.answer()), 404);
  Socket u(port_);
  u.send("NOT HTTP AT ALL\r\n\r\n");
  EXPECT_EQ(status_of(u.answer()), 400);
  EXPECT_EQ(refused_.load(), 3);
}

// Table row 1: a 200 MB chunked body was read whole past the body limit (4.7 GB RSS) while
// every other client got 503.
TEST_F(HttpServerTest, AChunkedFloodIsRefusedAsItArrivesWhileOthersAreAnswered) {
  HttpLimits limits;
  limits.max_body_bytes = 64 << 10;
  start(limits);
  const long rss_before = rss_kb();
  Socket flood(port_);
  ASSERT_TRUE(flood.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  std::atomic<std::size_t> sent{0};
  std::thread sender([&] {
    const std::string chunk = "10000\r\n" + std::string(0x10000, 'a') + "\r\n";
    while (sent < (200u << 20) && flood.send(chunk)) sent += chunk.size();
  });
  const auto answer = flood.answer(10s);
  EXPECT_EQ(status_of(answer), 413) << answer.substr(0, 200);
  EXPECT_NE(answer.find("larger than the server's limit of 65536 bytes"), std::string::npos) << answer.substr(0, 300);
  const auto [status, ms] = echo();
  EXPECT_EQ(status, 200);
  EXPECT_LT(ms, 1000);
  // A declared length over the limit is refused from the head alone.
  Socket declared(port_);
  declared.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n");
  EXPECT_EQ(status_of(declared.answer()), 413);
  sender.join();
  // The server read what fits its limit and its linger after the answer, then closed.
  std::cout << "chunked flood: the client sent " << sent / 1024 << " kB before the server closed; RSS grew "
            << rss_kb() - rss_before << " kB\n";
  EXPECT_LT(sent.load(), 32u << 20) << "bytes the client could send";
  EXPECT_LT(rss_kb() - rss_before, 64 << 10) << "kB of RSS grown";
}

// Table row 4: 5 million header lines (533 MB) were read and answered 200, 1.25 GB RSS kept.
TEST_F(HttpServerTest, AHeaderFloodIsRefusedByBytesAndByFields) {
  HttpLimits limits;
  limits.max_header_bytes = 16 << 10;
  limits.max_header_fields = 100;
  start(limits);
  const long rss_before = rss_kb();
  {
    Socket s(port_);
    std::string head = "POST /echo HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; i < 500; ++i) head += "X-" + std::to_string(i) + ": y\r\n";
    s.send(head + "Content-Length: 0\r\n\r\n");
    const auto a = s.answer();
    EXPECT_EQ(status_of(a), 431) << a;
    EXPECT_NE(a.find("502 fields; at most 100"), std::string::npos) << a;
  }
  Socket s(port_);
  std::atomic<std::size_t> sent{0};
  std::thread sender([&] {
    s.send("POST /echo HTTP/1.1\r\nHost: x\r\n");
    std::string lines;
    for (int i = 0; i < 10000; ++i) lines += "X-Flood: 0123456789abcdefghijklmnopqrstuvwxyz\r\n";
    while (sent < (512u << 20) && s.send(lines)) sent += lines.size();
  });
  const auto a = s.answer();
  EXPECT_EQ(status_of(a), 431) << a.substr(0, 200);
  EXPECT_NE(a.find("larger than 16384 bytes"), std::string::npos) << a;
  sender.join();
  std::cout << "header flood: the client sent " << sent / 1024 << " kB before the server closed; RSS grew "
            << rss_kb() - rss_before << " kB\n";
  EXPECT_LT(sent.load(), 32u << 20);
  EXPECT_LT(rss_kb() - rss_before, 64 << 10) << "kB of RSS grown";
}

// Table row 2: 100 sockets sending a byte a second, or 500 idle ones, stalled every other client
// (one thread per connection, no deadline for the whole request).
TEST_F(HttpServerTest, SlowAndIdleSocketsNeitherStallOthersNorStayOpen) {
  HttpLimits limits;
  limits.request_timeout = 1000ms;
  limits.idle_timeout = 500ms;
  start(limits);
  std::vector<std::unique_ptr<Socket>> slow, idle;
  for (int i = 0; i < 100; ++i) slow.push_back(std::make_unique<Socket>(port_));
  for (int i = 0; i < 200; ++i) idle.push_back(std::make_unique<Socket>(port_));
  std::atomic<bool> trickling{true};
  std::thread trickle([&] {
    const std::string head = "POST /echo HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    for (std::size_t byte = 0; trickling; ++byte) {
      for (auto& s : slow) s->send(std::string(1, byte < head.size() ? head[byte] : 'z'));
      std::this_thread::sleep_for(100ms);
    }
  });
  double worst = 0;
  for (int i = 0; i < 20; ++i) {
    const auto [status, ms] = echo();
    EXPECT_EQ(status, 200);
    worst = std::max(worst, ms);
  }
  EXPECT_LT(worst, 500) << "ms for the slowest normal request";
  // Past the request deadline and the idle timeout the server has closed them all.
  std::this_thread::sleep_for(1500ms);
  trickling = false;
  trickle.join();
  int open = 0;
  for (auto& s : slow) open += !s->closed_within(500ms);
  for (auto& s : idle) open += !s->closed_within(10ms);
  EXPECT_EQ(open, 0) << "connections the server left open";
  EXPECT_EQ(server_->open_connections(), 0);
}

TEST_F(HttpServerTest, ConnectionsPastTheCapAreClosedAtOnce) {
  HttpLimits limits;
  limits.max_connections = 8;
  start(limits);
  std::vector<std::unique_ptr<Socket>> held;
  for (int i = 0; i < 8; ++i) held.push_back(std::make_unique<Socket>(port_));
  const auto deadline = Clock::now() + 5s;
  while (server_->open_connections() < 8 && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
  Socket extra(port_);
  EXPECT_TRUE(extra.closed_within(1s));
  EXPECT_EQ(refused_connections_.load(), 1);
  held.clear();
  while (server_->open_connections() > 0 && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(echo().first, 200);  // room again
}

// Table row 3: SIGTERM closed requests already sent unanswered, kept-alive answers after it had no
// `Connection: close`, and slow sockets held the exit for 20 s.
TEST_F(HttpServerTest, StopAnswersEveryRequestReadWithConnectionCloseAndEndsPromptly) {
  start({}, 32);
  std::vector<std::unique_ptr<Socket>> keep_alive, slow, idle;
  for (int i = 0; i < 24; ++i) keep_alive.push_back(std::make_unique<Socket>(port_));
  for (int i = 0; i < 150; ++i) slow.push_back(std::make_unique<Socket>(port_));
  for (int i = 0; i < 50; ++i) idle.push_back(std::make_unique<Socket>(port_));
  for (auto& s : slow) s->send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-");
  // Each keep-alive client has had one answer, then sends a slow request.
  for (auto& s : keep_alive) {
    s->send(post("/echo", "x"));
    ASSERT_EQ(status_of(s->answer()), 200);
  }
  for (auto& s : keep_alive) s->send(post("/slow", "x"));
  const auto deadline = Clock::now() + 10s;
  while (in_slow_ < 24 && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
  ASSERT_EQ(in_slow_.load(), 24) << "requests read before the stop";
  const auto stopped = Clock::now();
  server_->stop();
  for (auto& s : keep_alive) {
    const auto a = s->answer();
    EXPECT_EQ(status_of(a), 200) << a;
    EXPECT_NE(a.find("Connection: close"), std::string::npos) << a;
    EXPECT_TRUE(s->closed_within(2s));
    s.reset();  // as a client does on `Connection: close`
  }
  for (auto& s : slow) EXPECT_TRUE(s->closed_within(100ms));
  for (auto& s : idle) EXPECT_TRUE(s->closed_within(100ms));
  thread_.join();
  EXPECT_LT(ms_between(stopped, served_until_), 1500)
      << "ms from stop() to serve() returning";
  EXPECT_FALSE(Socket(port_).connected());  // nothing listens any more
}

TEST_F(HttpServerTest, TheDrainEndsAtItsDeadlineWhateverAClientDoes) {
  HttpLimits limits;
  limits.drain_timeout = 500ms;
  start(limits);
  // A client that asks for a 64 MB answer and never reads it: the write cannot finish.
  Socket stuck(port_);
  stuck.send(post("/big", "x"));
  std::this_thread::sleep_for(300ms);
  const auto stopped = Clock::now();
  server_->stop();
  thread_.join();
  const double ms = ms_between(stopped, served_until_);
  EXPECT_GE(ms, 450);
  EXPECT_LT(ms, 1500) << "ms from stop() to serve() returning";
}

}  // namespace
}  // namespace relmoe
