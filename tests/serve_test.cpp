// The reranking service on a free loopback port: good, malformed and oversized requests, a
// burst past the queue, metrics, and a stop that answers every accepted request.
#include "base/error.hpp"
#include "base/hash.hpp"
#include "serve/load_generator.hpp"
#include "serve/rerank_service.hpp"
#include "support.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace relmoe {
namespace {

namespace fs = std::filesystem;

class ServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RELMOE_REQUIRE_SHARED("reference/encoders/tiny-bert");
    StudentConfig config;
    config.query_tokens = 16, config.item_tokens = 16, config.dim = 32;
    student_.emplace(ColbertStudent::from_base(test::shared_dir() / "reference/encoders/tiny-bert", config, 1));
    const auto dir = test::scratch_dir() / "serve-index";
    std::vector<std::pair<std::string, std::string>> items;
    for (int i = 0; i < 50; ++i) items.emplace_back("item" + std::to_string(i), "red shoe number " + std::to_string(i));
    build_item_index(*student_, "s", items, dir, 16, 1000, false);
    index_.emplace(ItemIndex::open(dir));
  }

  void start(ServiceOptions options) {
    options.port = 0;
    service_ = std::make_unique<RerankService>(*student_, &*index_, options);
    port_ = service_->bind();
    thread_ = std::thread([this] { service_->serve(); });
  }

  void TearDown() override {
    if (service_) service_->stop();
    if (thread_.joinable()) thread_.join();
  }

  httplib::Result post(const std::string& path, const std::string& body) {
    httplib::Client client("127.0.0.1", port_);
    return client.Post(path.c_str(), body, "application/json");
  }

  std::optional<ColbertStudent> student_;
  std::optional<ItemIndex> index_;
  std::unique_ptr<RerankService> service_;
  std::thread thread_;
  int port_ = 0;
};

TEST_F(ServeTest, AnswersGoodRequestsAndRejectsBadOnesWithTheirStatus) {
  ServiceOptions o;
  o.max_candidates = 20;
  o.http.max_body_bytes = 4096;
  start(o);
  // /rerank by ids: every candidate once, best first, calibrated probabilities.
  auto r = post("/rerank", R"({"query": "red shoe", "ids": ["item3", "item7", "item1"]})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto ranking = nlohmann::json::parse(r->body);
  ASSERT_EQ(ranking.size(), 3u);
  std::set<int> seen;
  for (std::size_t i = 0; i < 3; ++i) {
    seen.insert(ranking[i]["index"].get<int>());
    EXPECT_GT(ranking[i]["score"].get<double>(), 0.0);
    EXPECT_LT(ranking[i]["score"].get<double>(), 1.0);
    if (i > 0) EXPECT_GE(ranking[i - 1]["score"].get<double>(), ranking[i]["score"].get<double>());
  }
  EXPECT_EQ(seen, (std::set<int>{0, 1, 2}));
  // The same candidates as texts give the same raw MaxSim as the index within the f16 rounding
  // of the index: each unit-length item vector's components move by at most 2^-11 of
  // themselves, so each dot product with a unit query vector by at most 2^-11 (Cauchy-Schwarz),
  // and MaxSim, a sum over query_tokens query vectors, by query_tokens * 2^-11. The f32 rounding
  // of encoding the text in another batch is far smaller; the factor 1.25 covers it.
  auto by_id = nlohmann::json::parse(post("/rerank", R"({"query": "red shoe", "ids": ["item3"], "raw_scores": true})")->body);
  auto by_text = nlohmann::json::parse(
      post("/rerank", R"({"query": "red shoe", "texts": ["red shoe number 3"], "raw_scores": true})")->body);
  const double bound = 1.25 * static_cast<double>(student_->config().query_tokens) * std::ldexp(1.0, -11);
  EXPECT_NEAR(by_id[0]["score"].get<double>(), by_text[0]["score"].get<double>(), bound);
  // /score keeps the pairs' order.
  r = post("/score", R"({"pairs": [{"query": "a", "item": "b"}, {"query": "c", "item": "d"}, {"query": "a", "item": "e"}]})");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(nlohmann::json::parse(r->body)["scores"].size(), 3u);

  auto expect_status = [&](const std::string& path, const std::string& body, int status, const std::string& words) {
    const auto answer = post(path, body);
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, status) << body;
    EXPECT_NE(answer->body.find(words), std::string::npos) << answer->body;
  };
  expect_status("/rerank", R"({"query": "x", "ids": [)", 400, "malformed JSON");
  expect_status("/rerank", R"({"ids": ["item1"]})", 400, "'query'");
  expect_status("/rerank", R"({"query": "x", "ids": ["nope"]})", 400, "'nope' is not in the index");
  expect_status("/rerank", R"({"query": "x", "ids": ["item1"], "texts": ["t"]})", 400, "exactly one");
  expect_status("/score", R"({"pairs": [{"query": "a"}]})", 400, "'item'");
  nlohmann::json many{{"query", "x"}, {"texts", std::vector<std::string>(21, "t")}};
  expect_status("/rerank", many.dump(), 413, "at most 20");
  expect_status("/rerank", std::string(5000, ' '), 413, "larger than");
  // Bytes that are not UTF-8 and a number out of double's range are the client's error, answered
  // with a JSON body (they were a 500 with an empty one, missed by the metrics).
  for (const auto& [path, body] : std::vector<std::pair<std::string, std::string>>{
           {"/rerank", "{\"query\": \"caf\xC3(\", \"ids\": [\"item1\"]}"},
           {"/score", "{\"pairs\": [{\"query\": \"\xFF\xFE\", \"item\": \"b\"}]}"},
           {"/rerank", R"({"query": "x", "ids": ["item1"], "raw_scores": 1e999999})"}}) {
    const auto answer = post(path, body);
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 400) << answer->body;
    EXPECT_NE(nlohmann::json::parse(answer->body)["error"].get<std::string>().find("malformed JSON"),
              std::string::npos)
        << answer->body;
  }

  httplib::Client client("127.0.0.1", port_);
  // The server's own refusals are JSON errors, counted in the metrics too: a head with more fields
  // than allowed, an unknown route.
  httplib::Headers fields;
  for (int i = 0; i < 150; ++i) fields.emplace("X-" + std::to_string(i), "y");
  const auto flooded = client.Post("/rerank", fields, "{}", "application/json");
  ASSERT_TRUE(flooded);
  EXPECT_EQ(flooded->status, 431);
  EXPECT_NE(nlohmann::json::parse(flooded->body)["error"].get<std::string>().find("at most 100"), std::string::npos)
      << flooded->body;
  const auto unknown = client.Get("/nope");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_EQ(nlohmann::json::parse(unknown->body)["error_type"], "NotFound");
  const auto health = client.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(nlohmann::json::parse(health->body)["items"], 50);
  const auto metrics = client.Get("/metrics")->body;
  EXPECT_NE(metrics.find("relmoe_requests_total{route=\"/rerank\",status=\"200\"} 3"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("relmoe_requests_total{route=\"/rerank\",status=\"400\"} 6"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("relmoe_requests_total{route=\"/score\",status=\"400\"} 2"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("relmoe_queue_depth 0"), std::string::npos);
  EXPECT_NE(metrics.find("relmoe_requests_total{route=\"unmatched\",status=\"431\"} 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("relmoe_requests_total{route=\"unmatched\",status=\"404\"} 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("relmoe_requests_total{route=\"/rerank\",status=\"413\"} 2"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("relmoe_open_connections "), std::string::npos) << metrics;
}

// An index whose vectors hold NaN or flipped bits is refused at open (its checksum); were it served
// anyway, a score that no sound index gives is a 500 naming the item, never a ranked answer with
// "score": null first or raw scores of 2e5.
TEST_F(ServeTest, ADamagedIndexIsAnErrorNamingTheItemNotARanking) {
  const auto damaged = test::scratch_dir() / "serve-index-damaged";
  for (const std::uint16_t half : {std::uint16_t{0x7E00}, std::uint16_t{0x7BFF}}) {  // NaN, 65504
    fs::remove_all(damaged);
    fs::copy(test::scratch_dir() / "serve-index", damaged);
    const auto bytes = fs::file_size(damaged / "vectors.f16");
    std::string filled;
    for (std::size_t i = 0; i < bytes / 2; ++i) filled.append(reinterpret_cast<const char*>(&half), 2);
    std::ofstream(damaged / "vectors.f16", std::ios::binary) << filled;
    // The checksum catches it at open...
    try {
      ItemIndex::open(damaged);
      ADD_FAILURE() << "a damaged vectors.f16 was opened";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("vectors.f16: does not match the manifest's checksum"), std::string::npos)
          << e.what();
    }
    // ...and were the checksum made over the damage (a faulty writer), serving still refuses to rank.
    nlohmann::json manifest = nlohmann::json::parse(std::ifstream(damaged / "manifest.json"));
    char checksum[17];
    std::snprintf(checksum, sizeof checksum, "%016llx", static_cast<unsigned long long>(hash64(filled)));
    manifest["vectors_checksum"] = checksum;
    std::ofstream(damaged / "manifest.json") << manifest.dump();
    index_.emplace(ItemIndex::open(damaged));
    start({});
    const auto answer = post("/rerank", R"({"query": "red shoe", "ids": ["item2", "item3"]})");
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 500) << answer->body;
    EXPECT_NE(answer->body.find("item 'item2'"), std::string::npos) << answer->body;
    EXPECT_NE(answer->body.find("damaged"), std::string::npos) << answer->body;
    TearDown();
    service_.reset();
  }
}

TEST_F(ServeTest, BurstPastTheQueueGets429AndEveryAcceptedRequestItsAnswer) {
  ServiceOptions o;
  o.batcher.queue_capacity = 2;
  o.batcher.token_budget = 16 * 40;  // one job at a time: the queue fills
  o.http_threads = 48;
  start(o);
  LoadSpec spec;
  spec.port = port_;
  nlohmann::json body{{"query", "red shoe"}, {"texts", std::vector<std::string>(30, "red shoe with laces and a sole")}};
  spec.bodies = {body.dump()};
  spec.concurrency = 32;
  spec.requests = 320;
  spec.check = [](std::size_t, const std::string& answer) { return nlohmann::json::parse(answer).size() == 30; };
  const auto r = run_load(spec);
  EXPECT_EQ(r.transport_errors, 0);
  EXPECT_EQ(r.bad_answers, 0);
  EXPECT_GT(r.statuses.count(429) ? r.statuses.at(429) : 0, 0) << r.to_json().dump();
  EXPECT_GT(r.statuses.count(200) ? r.statuses.at(200) : 0, 0) << r.to_json().dump();
  EXPECT_EQ(r.statuses.size(), 2u) << r.to_json().dump();  // only 200 and 429
}

// A loopback port nothing listens on: bound, read, released.
int closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), size), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size), 0);
  ::close(fd);
  return ntohs(address.sin_port);
}

TEST_F(ServeTest, ALoadTestThatGetsNoAnswersFails) {
  const int closed = closed_port();
  const auto queries = test::scratch_dir() / "loadtest-queries.tsv";
  std::ofstream(queries) << "id\tmarket\tquery\titem\tlabel\n1\tm\tred shoe\ti\t1\n";
  const auto run = test::run_command(test::binary().string() + " loadtest --index " +
                                     (test::scratch_dir() / "serve-index").string() + " --queries " + queries.string() +
                                     " --port " + std::to_string(closed) + " --concurrency 1 --requests 3 --candidates 4");
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_NE(run.output.find("3 requests got no answer from 127.0.0.1:" + std::to_string(closed)), std::string::npos)
      << run.output;
}

TEST_F(ServeTest, StopAnswersRequestsAlreadyAccepted) {
  ServiceOptions o;
  o.batcher.token_budget = 16 * 210;  // one request per model batch
  start(o);
  nlohmann::json body{{"query", "red shoe"}, {"texts", std::vector<std::string>(200, "red shoe with laces and a sole")}};
  std::vector<std::thread> clients;
  std::atomic<int> ok{0}, failed{0};
  for (int c = 0; c < 8; ++c)
    clients.emplace_back([&] {
      const auto r = post("/rerank", body.dump());
      (r && r->status == 200 && nlohmann::json::parse(r->body).size() == 200 ? ok : failed)++;
    });
  // Stop while requests are inside their handlers: each of them must still be answered.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (service_->in_flight() < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  const auto accepted = service_->in_flight();
  ASSERT_GE(accepted, 2) << "no request reached the server in 30 s";
  service_->stop();
  thread_.join();
  for (auto& t : clients) t.join();
  EXPECT_GE(ok.load(), accepted);  // later connection attempts may be refused
  EXPECT_EQ(ok.load() + failed.load(), 8);
  EXPECT_FALSE(post("/rerank", body.dump()));  // nothing listens any more
}

}  // namespace
}  // namespace relmoe
