#pragma once
// The reranking API's requests and answers as types, parsed, checked and written apart from the
// handlers (text-embeddings-inference's types.rs). A request the client got wrong is an ApiError
// with its status (400 malformed or missing fields, 413 over a limit), its message naming the field.
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace relmoe {

struct ApiError : std::runtime_error {
  ApiError(int status, const std::string& message) : std::runtime_error(message), status(status) {}
  int status;
};

// POST /rerank {"query", "texts": [...] | "ids": [...], "raw_scores"?: bool}
struct RerankRequest {
  std::string query;
  std::vector<std::string> texts, ids;  // exactly one is given
  bool raw_scores = false;
  static RerankRequest parse(const std::string& body, std::size_t max_candidates);
};

// POST /score {"pairs": [{"query", "item"}, ...]}
struct ScoreRequest {
  struct Pair {
    std::string query, item;
  };
  std::vector<Pair> pairs;
  static ScoreRequest parse(const std::string& body, std::size_t max_pairs);
};

struct RankedCandidate {
  std::size_t index;  // in the request's list
  double score;
};

// [{"index", "score"}, ...] in the given order.
std::string rerank_answer(const std::vector<RankedCandidate>& ranking);
// {"scores": [...]}
std::string score_answer(const std::vector<double>& scores);
// {"status": "ok", "items": N}
std::string health_answer(std::size_t items);
// {"error", "error_type"}; invalid UTF-8 quoted from a request becomes U+FFFD.
std::string error_answer(int status, const std::string& message);

}  // namespace relmoe
