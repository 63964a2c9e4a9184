#include "serve/http_server.hpp"

#include "base/error.hpp"
#include "base/stopwatch.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

namespace relmoe {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t kReadChunk = 16 << 10;
// After an answer that closes the connection, what the client still sends is read and dropped
// for this long (or up to kLingerBytes): closing with unread bytes would reset the connection
// and could destroy the answer before the client reads it.
constexpr std::chrono::milliseconds kLinger{1000};
constexpr std::size_t kLingerBytes = 4 << 20;
constexpr std::chrono::milliseconds kDrainTick{20};

bool is_http_error(const beast::error_code& ec) {
  return &ec.category() == &http::make_error_code(http::error::bad_method).category();
}

}  // namespace

struct HttpServer::State {
  State(HttpLimits limits, HttpHooks hooks, int io_threads, int handler_threads)
      : limits(limits),
        hooks(std::move(hooks)),
        io_threads(std::max(1, io_threads)),
        io(this->io_threads),
        handlers(static_cast<std::size_t>(std::max(1, handler_threads))),
        acceptor(asio::make_strand(io)),
        drain_timer(acceptor.get_executor()),
        accept_retry(acceptor.get_executor()) {}

  HttpLimits limits;
  HttpHooks hooks;
  int io_threads;
  std::map<std::pair<std::string, std::string>, HttpHandler> routes;  // (method, path)
  std::atomic<bool> stopping{false};
  // Declared before the I/O context: a session destroyed with it still finds these.
  mutable std::mutex mutex;
  std::unordered_map<const Session*, std::weak_ptr<Session>> sessions;
  asio::io_context io;
  asio::thread_pool handlers;
  // The acceptor and both timers share one strand, where the drain runs too.
  tcp::acceptor acceptor;
  asio::steady_timer drain_timer, accept_retry;
  bool draining = false;
  SteadyClock::time_point drain_deadline;

  void accept();
  void on_accept(const beast::error_code& ec, tcp::socket socket);
  void begin_drain();
  void drain_tick();
  std::vector<std::shared_ptr<Session>> live_sessions() const;
  HttpResponse run(const HttpHandler& handler, const HttpRequest& request) const;
};

class HttpServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(State& server, tcp::socket socket)
      : server_(server), limits_(server.limits), stream_(std::move(socket)), buffer_(limits_.max_header_bytes + kReadChunk) {}
  ~Session() {
    std::lock_guard lock(server_.mutex);
    server_.sessions.erase(this);
  }

  void start() { post([](Session& s) { s.await_request(); }); }
  // Idle and half-read connections close now; a request being answered is answered, then closed.
  void drain() {
    post([](Session& s) {
      s.draining_ = true;
      if (s.phase_ == Phase::idle || s.phase_ == Phase::reading) s.close();
    });
  }
  void close_now() { post([](Session& s) { s.close(); }); }

 private:
  enum class Phase { idle, reading, handling, writing, closing };

  template <class F>
  void post(F f) {
    asio::post(stream_.get_executor(), [self = shared_from_this(), f = std::move(f)]() mutable { f(*self); });
  }

  void await_request() {
    phase_ = Phase::idle;
    if (draining_ || server_.stopping) return close();
    if (buffer_.size() > 0) return read_head();  // a pipelined request is already here
    stream_.expires_after(limits_.idle_timeout);
    stream_.async_read_some(buffer_.prepare(kReadChunk), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      self->buffer_.commit(n);
      if (ec) return self->close();
      self->read_head();
    });
  }

  void read_head() {
    phase_ = Phase::reading;
    started_ = SteadyClock::now();
    route_ = "unmatched";
    handler_ = nullptr;
    version_ = 11;
    keep_alive_ = false;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
    parser_->body_limit(limits_.max_body_bytes);
    // One deadline for the head and the body together: a client trickling bytes cannot extend it.
    stream_.expires_after(limits_.request_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_head(ec); });
  }

  void on_head(const beast::error_code& ec) {
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow)
      return refuse(431, "the request head is larger than " + std::to_string(limits_.max_header_bytes) + " bytes");
    if (ec) return read_failed(ec);  // a Content-Length over the body limit ends here, as a 413
    const auto& request = parser_->get();
    version_ = request.version();
    const auto fields = static_cast<std::size_t>(std::distance(request.begin(), request.end()));
    if (fields > limits_.max_header_fields)
      return refuse(431, "the request head has " + std::to_string(fields) + " fields; at most " +
                             std::to_string(limits_.max_header_fields) + " are allowed");
    if (!match_route()) {
      const std::string method(request.method_string());
      return refuse(route_ == path_ ? 405 : 404,
                    route_ == path_ ? method + " is not allowed on " + path_ : "no route " + path_);
    }
    if (beast::iequals(request[http::field::expect], "100-continue")) {
      continue_.emplace(http::status::continue_, version_);
      return http::async_write(stream_, *continue_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec) return self->close();
        self->read_body();
      });
    }
    read_body();
  }

  // Sets path_ from the request line, route_ to it when some route serves it, and handler_ when
  // one serves it for this method.
  bool match_route() {
    const auto& request = parser_->get();
    const std::string method(request.method_string()), target(request.target());
    path_ = target.substr(0, target.find('?'));
    const bool known = std::any_of(server_.routes.begin(), server_.routes.end(),
                                   [&](const auto& r) { return r.first.second == path_; });
    if (known) route_ = path_;
    const auto found = server_.routes.find({method, path_});
    handler_ = found == server_.routes.end() ? nullptr : &found->second;
    return handler_ != nullptr;
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_body(ec); });
  }

  void on_body(const beast::error_code& ec) {
    if (ec) return read_failed(ec);
    phase_ = Phase::handling;
    keep_alive_ = parser_->get().keep_alive();
    HttpRequest request{std::string(parser_->get().method_string()), path_, std::move(parser_->get().body())};
    parser_.reset();
    asio::post(server_.handlers, [self = shared_from_this(), request = std::move(request),
                                  work = asio::make_work_guard(server_.io)]() mutable {
      auto response = self->server_.run(*self->handler_, request);
      self->post([response = std::move(response)](Session& s) { s.answer(response, false); });
      // The work guard keeps the I/O threads running until the answer above is queued on them.
      self.reset();
      work.reset();
    });
  }

  // A body over the limit is answered 413, a malformed request 400; a timeout, reset or end of
  // stream just closes.
  void read_failed(const beast::error_code& ec) {
    if (ec == http::error::body_limit) {
      match_route();  // the head was read whole: the refusal is counted under its route
      return refuse(413, "the request body is larger than the server's limit of " +
                             std::to_string(limits_.max_body_bytes) + " bytes");
    }
    if (is_http_error(ec) && ec != http::error::end_of_stream && ec != http::error::partial_message)
      return refuse(400, "malformed HTTP request: " + ec.message());
    close();
  }

  void refuse(int status, const std::string& message) { answer(server_.hooks.error(status, message), true); }

  void answer(const HttpResponse& r, bool close_after) {
    if (closed_) return;  // closed at the drain deadline while its handler ran
    phase_ = Phase::writing;
    const bool keep = !close_after && keep_alive_ && !draining_ && !server_.stopping;
    response_.emplace(static_cast<http::status>(r.status), version_);
    response_->set(http::field::content_type, r.content_type);
    for (const auto& [name, value] : r.headers) response_->set(name, value);
    response_->body() = r.body;
    response_->keep_alive(keep);
    response_->prepare_payload();
    if (server_.hooks.answered) server_.hooks.answered(route_, r.status, seconds_since(started_));
    stream_.expires_after(limits_.write_timeout);
    http::async_write(stream_, *response_, [self = shared_from_this(), keep](beast::error_code ec, std::size_t) {
      self->response_.reset();
      if (ec) return self->close();
      if (!keep) return self->linger();
      self->await_request();
    });
  }

  void linger() {
    phase_ = Phase::closing;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kLinger);
    buffer_.consume(buffer_.size());
    discard();
  }

  void discard() {
    stream_.async_read_some(buffer_.prepare(kReadChunk), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      self->buffer_.commit(n);
      self->buffer_.consume(n);
      self->lingered_ += n;
      if (ec || self->lingered_ > kLingerBytes) return self->close();
      self->discard();
    });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  State& server_;
  const HttpLimits& limits_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  std::optional<http::response<http::string_body>> response_;  // alive until written
  const HttpHandler* handler_ = nullptr;
  std::string path_, route_;
  unsigned version_ = 11;
  bool keep_alive_ = false, draining_ = false, closed_ = false;
  std::size_t lingered_ = 0;
  Phase phase_ = Phase::idle;
  SteadyClock::time_point started_;
};

HttpResponse HttpServer::State::run(const HttpHandler& handler, const HttpRequest& request) const {
  try {
    return handler(request);
  } catch (const std::exception& e) {
    return hooks.error(500, e.what());
  } catch (...) {
    return hooks.error(500, "internal error");
  }
}

void HttpServer::State::accept() {
  acceptor.async_accept(asio::make_strand(io),
                        [this](beast::error_code ec, tcp::socket socket) { on_accept(ec, std::move(socket)); });
}

void HttpServer::State::on_accept(const beast::error_code& ec, tcp::socket socket) {
  if (draining) return;
  if (ec) {
    // Out of file descriptors, say: try again shortly instead of spinning.
    spdlog::warn("serve: accept failed: {}", ec.message());
    accept_retry.expires_after(std::chrono::milliseconds(50));
    accept_retry.async_wait([this](beast::error_code e) {
      if (!e && !draining) accept();
    });
    return;
  }
  std::unique_lock lock(mutex);
  if (sessions.size() >= limits.max_connections) {
    lock.unlock();
    if (hooks.connection_refused) hooks.connection_refused();  // counted before the client can see it
    beast::error_code ignored;
    socket.close(ignored);
  } else {
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);  // an answer is two writes: Nagle would delay it
    auto session = std::make_shared<Session>(*this, std::move(socket));
    sessions.emplace(session.get(), session);
    lock.unlock();
    session->start();
  }
  accept();
}

std::vector<std::shared_ptr<HttpServer::Session>> HttpServer::State::live_sessions() const {
  std::lock_guard lock(mutex);
  std::vector<std::shared_ptr<Session>> out;
  for (const auto& [key, weak] : sessions)
    if (auto s = weak.lock()) out.push_back(std::move(s));
  return out;
}

void HttpServer::State::begin_drain() {
  if (draining) return;
  draining = true;
  stopping = true;
  beast::error_code ignored;
  acceptor.close(ignored);
  accept_retry.cancel();
  for (const auto& s : live_sessions()) s->drain();
  drain_deadline = SteadyClock::now() + limits.drain_timeout;
  drain_tick();
}

// Polls until the last connection is gone, or closes what is left at the deadline.
void HttpServer::State::drain_tick() {
  const auto left = live_sessions();
  if (left.empty()) return;
  if (SteadyClock::now() >= drain_deadline) {
    spdlog::warn("serve: {} connections still open at the drain deadline; closing them", left.size());
    for (const auto& s : left) s->close_now();
    return;
  }
  drain_timer.expires_after(kDrainTick);
  drain_timer.async_wait([this](beast::error_code ec) {
    if (!ec) drain_tick();
  });
}

HttpServer::HttpServer(HttpLimits limits, HttpHooks hooks, int io_threads, int handler_threads) {
  if (!hooks.error)
    hooks.error = [](int status, const std::string& message) { return HttpResponse{status, message, "text/plain", {}}; };
  state_ = std::make_unique<State>(limits, std::move(hooks), io_threads, handler_threads);
}

HttpServer::~HttpServer() {
  stop();
  state_->handlers.join();
}

void HttpServer::route(const std::string& method, const std::string& path, HttpHandler handler) {
  state_->routes[{method, path}] = std::move(handler);
}

int HttpServer::bind(const std::string& host, int port) {
  auto& acceptor = state_->acceptor;
  const auto where = host + ":" + std::to_string(port);
  try {
    tcp::resolver resolver(state_->io);
    const auto endpoint = resolver.resolve(host, std::to_string(port), tcp::resolver::passive)->endpoint();
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
    return acceptor.local_endpoint().port();
  } catch (const boost::system::system_error& e) {
    fail("--port", "cannot listen on " + where + ": " + e.code().message());
  }
}

void HttpServer::serve() {
  auto& s = *state_;
  asio::post(s.acceptor.get_executor(), [&s] {
    if (!s.draining) s.accept();
  });
  auto run = [&s] {
    // An exception escaping a completion handler ends run(); the server keeps serving.
    while (true) {
      try {
        s.io.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("serve: {}", e.what());
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 1; i < s.io_threads; ++i) threads.emplace_back(run);
  run();
  for (auto& t : threads) t.join();
}

void HttpServer::stop() {
  state_->stopping = true;
  asio::post(state_->acceptor.get_executor(), [s = state_.get()] { s->begin_drain(); });
}

std::int64_t HttpServer::open_connections() const {
  std::lock_guard lock(state_->mutex);
  return static_cast<std::int64_t>(state_->sessions.size());
}

}  // namespace relmoe
