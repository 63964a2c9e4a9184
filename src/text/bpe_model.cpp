#include "text/bpe_model.hpp"

#include "base/error.hpp"
#include "text/byte_level.hpp"
#include "text/utf8.hpp"

#include <algorithm>
#include <cstdio>

namespace relmoe {

struct BpeModel::Symbol {
  TokenId id;
  int prev, next;  // neighbours in the linked list, -1 at the ends
  bool alive;
};

namespace {

// Splits a merges entry: "left right" or ["left", "right"].
std::pair<std::string, std::string> merge_sides(const JsonNode& entry) {
  if (entry.json().is_array()) {
    if (entry.array().size() != 2) entry.fail("expected [left, right]");
    return {entry.element(0).string(), entry.element(1).string()};
  }
  if (!entry.json().is_string()) entry.fail("expected a string \"left right\" or a [left, right] array");
  const auto text = entry.string();
  const auto space = text.find(' ');
  if (space == std::string::npos || text.find(' ', space + 1) != std::string::npos)
    entry.fail("expected two tokens separated by one space, got '" + text + "'");
  return {text.substr(0, space), text.substr(space + 1)};
}

}  // namespace

BpeModel::BpeModel(const JsonNode& node, bool byte_level) : byte_level_(byte_level) {
  const auto type = node.string_or("type", "BPE");
  if (type != "BPE") node.at("type").fail("unsupported model type '" + type + "' (only BPE)");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (!node.string_or(key, "").empty())
      node.at(key).fail("non-empty values are not supported");
  // "dropout" only randomises training-time segmentation; encoding here is deterministic.

  // Vocabulary in its JSON spelling, for resolving merges and the unknown token.
  const auto vocab_node = node.at("vocab");
  Vocab spelled;
  spelled.reserve(vocab_node.object().size());
  for (const auto& [token, id] : vocab_node.object()) {
    if (!id.is_number_integer() || id.get<std::int64_t>() < 0 || id.get<std::int64_t>() > INT32_MAX)
      vocab_node.fail("id of '" + token + "' is not a non-negative 32-bit integer");
    const auto value = static_cast<TokenId>(id.get<std::int64_t>());
    spelled.emplace(token, value);
    size_ = std::max<std::size_t>(size_, std::size_t(value) + 1);
  }

  const auto merges_node = node.at("merges");
  const auto& merge_list = merges_node.array();
  merges_ = MergeTable(merge_list.size());
  for (std::size_t rank = 0; rank < merge_list.size(); ++rank) {
    const auto entry = merges_node.element(rank);
    const auto [left, right] = merge_sides(entry);
    auto l = spelled.find(left), r = spelled.find(right), m = spelled.find(left + right);
    if (l == spelled.end() || r == spelled.end() || m == spelled.end())
      entry.fail("merge '" + left + " " + right + "' uses a token missing from the vocabulary");
    merges_.insert(l->second, r->second, Merge{std::uint32_t(rank), m->second});
  }

  if (auto unk = node.find("unk_token")) {
    auto it = spelled.find(unk->string());
    if (it == spelled.end()) unk->fail("unknown token '" + unk->string() + "' is not in the vocabulary");
    unk_ = it->second;
  }
  fuse_unk_ = node.boolean_or("fuse_unk", false);
  byte_fallback_ = node.boolean_or("byte_fallback", false);
  ignore_merges_ = node.boolean_or("ignore_merges", false);

  if (byte_level_) {
    for (auto& [token, id] : spelled) {
      auto raw = byte_level::decode(token);
      vocab_.emplace(raw ? std::move(*raw) : token, id);
    }
  } else {
    vocab_ = std::move(spelled);
  }
  if (!byte_level_) {
    bmp_char_ids_.assign(0x10000, -1);
    for (const auto& [token, id] : vocab_) {
      std::size_t pos = 0;
      if (token.empty() || utf8::find_invalid(token) != std::string::npos) continue;
      const char32_t cp = utf8::decode(token, pos);
      if (pos == token.size() && cp < bmp_char_ids_.size()) bmp_char_ids_[cp] = id;
    }
  }
  for (int b = 0; b < 256; ++b) {
    const char byte = static_cast<char>(b);
    single_byte_ids_[b] = find(std::string_view(&byte, 1)).value_or(-1);
    char hex[8];
    std::snprintf(hex, sizeof hex, "<0x%02X>", b);
    fallback_byte_ids_[b] = find(hex).value_or(-1);
  }
}

std::optional<TokenId> BpeModel::token_to_id(std::string_view token) const {
  if (byte_level_)
    if (auto raw = byte_level::decode(token))
      if (auto id = find(*raw)) return id;
  return find(token);
}

void BpeModel::initial_symbols(std::string_view word, std::vector<Symbol>& symbols) const {
  symbols.clear();
  bool previous_unk = false;
  auto push = [&](TokenId id) {
    const int index = static_cast<int>(symbols.size());
    symbols.push_back({id, index - 1, index + 1, true});
  };
  for (std::size_t pos = 0; pos < word.size();) {
    const auto lead = static_cast<unsigned char>(word[pos]);
    const std::size_t len = byte_level_ ? 1 : utf8::sequence_length(lead);
    const std::string_view piece = word.substr(pos, len);
    pos += len;
    std::optional<TokenId> id;
    if (len == 1) {
      if (single_byte_ids_[lead] >= 0) id = single_byte_ids_[lead];
    } else if (len < 4) {
      std::size_t at = 0;
      if (const TokenId known = bmp_char_ids_[utf8::decode(piece, at)]; known >= 0) id = known;
    } else {
      id = find(piece);
    }
    if (id) {
      push(*id);
      previous_unk = false;
      continue;
    }
    if (byte_fallback_ &&
        std::all_of(piece.begin(), piece.end(),
                    [this](char c) { return fallback_byte_ids_[static_cast<unsigned char>(c)] >= 0; })) {
      for (char c : piece) push(fallback_byte_ids_[static_cast<unsigned char>(c)]);
      previous_unk = false;
      continue;
    }
    if (!unk_) continue;  // no unknown token: the character is dropped, as in Hugging Face
    if (!(previous_unk && fuse_unk_)) push(*unk_);
    previous_unk = true;
  }
  if (!symbols.empty()) symbols.back().next = -1;
}

void BpeModel::merge(std::vector<Symbol>& symbols) const {
  // Candidate merges ordered by rank, then by position (leftmost first), as Hugging Face.
  struct Candidate {
    std::uint32_t rank;
    int pos, right;
    TokenId left_id, right_id, result;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  thread_local std::vector<Candidate> heap;  // min-heap through std::greater
  heap.clear();
  auto consider = [&](int left) {
    const int right = symbols[left].next;
    if (right < 0) return;
    if (const Merge* m = merges_.find(symbols[left].id, symbols[right].id)) {
      heap.push_back({m->rank, left, right, symbols[left].id, symbols[right].id, m->result});
      std::push_heap(heap.begin(), heap.end(), std::greater<>{});
    }
  };
  for (int i = 0; i + 1 < static_cast<int>(symbols.size()); ++i) consider(i);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), std::greater<>{});
    const Candidate top = heap.back();
    heap.pop_back();
    Symbol& left = symbols[top.pos];
    Symbol& right = symbols[top.right];
    // Stale candidate: a side has been merged into something else since it was queued.
    if (!left.alive || left.next != top.right || left.id != top.left_id || right.id != top.right_id) continue;
    left.id = top.result;
    right.alive = false;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.pos;
    if (left.prev >= 0) consider(left.prev);
    consider(top.pos);
  }
}

void BpeModel::tokenize(std::string_view word, std::vector<TokenId>& out) const {
  // A one-byte word needs no merging, so the cache would only cost time.
  const bool cached = word.size() > 1;
  if (cached && cache_.lookup(word, out)) return;
  if (ignore_merges_)
    if (auto id = find(word)) {
      out.push_back(*id);
      if (cached) cache_.insert(word, &*id, 1);
      return;
    }
  thread_local std::vector<Symbol> symbols;
  initial_symbols(word, symbols);
  if (symbols.size() > 1) merge(symbols);
  const std::size_t first = out.size();
  for (int i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[i].next) out.push_back(symbols[i].id);
  if (cached) cache_.insert(word, out.data() + first, out.size() - first);
}

}  // namespace relmoe
