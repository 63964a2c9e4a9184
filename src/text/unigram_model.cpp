#include "text/unigram_model.hpp"

#include "base/error.hpp"
#include "text/utf8.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace relmoe {
namespace {
constexpr double kUnknownPenalty = 10.0;  // Hugging Face's K_UNK_PENALTY
}  // namespace

UnigramModel::UnigramModel(const JsonNode& node) {
  const auto vocab = node.at("vocab");
  std::vector<UnigramPiece> pieces;
  for (std::size_t i = 0; i < vocab.array().size(); ++i) {
    const auto entry = vocab.element(i);
    if (!entry.json().is_array() || entry.json().size() != 2) entry.fail("expected [piece, score]");
    pieces.push_back({entry.element(0).string(), entry.element(1).number()});
    utf8::require_valid(pieces.back().text, entry.source() + ": " + entry.path());
  }
  if (pieces.empty()) vocab.fail("empty vocabulary");
  add_pieces(pieces);
  unk_path_ = node.source() + ": " + node.path() + (node.path().empty() ? "" : ".") + "unk_id";
  if (auto unk = node.find("unk_id")) {
    if (unk->integer() < 0 || static_cast<std::size_t>(unk->integer()) >= scores_.size())
      unk->fail("unknown piece id " + std::to_string(unk->integer()) + " is not in the " +
                std::to_string(scores_.size()) + "-piece vocabulary");
    unk_ = static_cast<TokenId>(unk->integer());
  }
  byte_fallback_ = node.boolean_or("byte_fallback", false);
}

UnigramModel::UnigramModel(const std::vector<UnigramPiece>& pieces, std::optional<TokenId> unk, bool byte_fallback,
                           std::string unk_where)
    : unk_(unk), unk_path_(std::move(unk_where)), byte_fallback_(byte_fallback) {
  if (pieces.empty()) fail(unk_path_, "empty vocabulary");
  add_pieces(pieces);
}

void UnigramModel::add_pieces(const std::vector<UnigramPiece>& pieces) {
  double min_score = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const auto& p = pieces[i];
    const auto id = static_cast<TokenId>(i);
    scores_.push_back(p.score);
    if (p.normal) min_score = std::min(min_score, p.score);
    if (ids_.emplace(p.text, id).second && p.matchable && !p.text.empty()) add_piece(p.text, id);
  }
  unk_score_ = (std::isfinite(min_score) ? min_score : 0.0) - kUnknownPenalty;
}

std::int32_t UnigramModel::child(std::int32_t node, unsigned char byte) const {
  auto it = edges_.find((static_cast<std::uint64_t>(node) << 8) | byte);
  return it == edges_.end() ? -1 : it->second;
}

void UnigramModel::add_piece(std::string_view piece, TokenId id) {
  std::int32_t node = 0;
  for (const char b : piece) {
    const auto key = (static_cast<std::uint64_t>(node) << 8) | static_cast<unsigned char>(b);
    auto [it, fresh] = edges_.emplace(key, static_cast<std::int32_t>(node_piece_.size()));
    if (fresh) node_piece_.push_back(-1);
    node = it->second;
  }
  node_piece_[static_cast<std::size_t>(node)] = id;
}

void UnigramModel::tokenize(std::string_view word, std::vector<TokenId>& out) const {
  struct Best {
    double score = 0;
    std::size_t start = 0;
    TokenId id = -1;
    bool reached = false;
  };
  std::vector<Best> best(word.size() + 1);
  best[0].reached = true;
  for (std::size_t start = 0; start < word.size();) {
    std::size_t next = start;
    utf8::decode(word, next);
    const std::size_t char_len = next - start;
    const double here = best[start].score;
    bool single = false;
    std::int32_t node = 0;
    for (std::size_t end = start; end < word.size();) {
      node = child(node, static_cast<unsigned char>(word[end++]));
      if (node < 0) break;
      const TokenId id = node_piece_[static_cast<std::size_t>(node)];
      if (id < 0) continue;
      auto& target = best[end];
      const double score = here + scores_[static_cast<std::size_t>(id)];
      if (!target.reached || score > target.score) target = {score, start, id, true};
      if (end - start == char_len) single = true;
    }
    if (!single) {
      auto& target = best[next];
      const double score = here + unk_score_;
      if (!target.reached || score > target.score) target = {score, start, unk_.value_or(-1), true};
    }
    start = next;
  }
  // Back from the end; unknown stretches next to each other fuse into one.
  std::vector<std::pair<std::size_t, std::size_t>> pieces;  // [start, end) in reverse order
  std::vector<bool> unknown;
  for (std::size_t end = word.size(); end > 0;) {
    const auto& node = best[end];
    const bool unk = node.id < 0 || (unk_ && node.id == *unk_);
    if (unk && !unknown.empty() && unknown.back()) pieces.back().first = node.start;
    else {
      pieces.emplace_back(node.start, end);
      unknown.push_back(unk);
    }
    end = node.start;
  }
  for (std::size_t i = pieces.size(); i-- > 0;)
    emit(word.substr(pieces[i].first, pieces[i].second - pieces[i].first), out);
}

void UnigramModel::emit(std::string_view text, std::vector<TokenId>& out) const {
  if (auto it = ids_.find(std::string(text)); it != ids_.end()) {  // a fused stretch may be a piece too
    out.push_back(it->second);
    return;
  }
  if (byte_fallback_) {
    std::vector<TokenId> bytes;
    for (const char b : text) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", static_cast<unsigned char>(b));
      auto it = ids_.find(name);
      if (it == ids_.end()) break;
      bytes.push_back(it->second);
    }
    if (bytes.size() == text.size()) {
      out.insert(out.end(), bytes.begin(), bytes.end());
      return;
    }
  }
  if (!unk_) fail(unk_path_, "absent, and '" + std::string(text) + "' is covered by no piece");
  out.push_back(*unk_);
}

std::optional<TokenId> UnigramModel::token_to_id(std::string_view token) const {
  auto it = ids_.find(std::string(token));
  return it == ids_.end() ? std::nullopt : std::optional<TokenId>(it->second);
}

}  // namespace relmoe
