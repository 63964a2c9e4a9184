#include "text/spm_tokenizer.hpp"

#include "base/error.hpp"
#include "text/utf8.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <map>

namespace relmoe {
namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

using Type = SpmModelProto::PieceType;

// sentencepiece's unigram lattice: normal and user-defined pieces take part; unknown characters
// score the worst normal score - 10; a user-defined piece scores its byte length x max_score -
// 0.1, where sentencepiece starts max_score at FLT_MIN (the smallest positive float), so with
// log-probability scores (all negative) that is about -0.1: user-defined pieces nearly always win.
std::unique_ptr<UnigramModel> unigram_model(const SpmModelProto& model, const std::string& source, TokenId unk) {
  float best = std::numeric_limits<float>::min();
  for (const auto& p : model.pieces)
    if (p.type == Type::Normal) best = std::max(best, p.score);
  std::vector<UnigramPiece> pieces;
  for (const auto& p : model.pieces) {
    const bool user = p.type == Type::UserDefined;
    const double score = user ? static_cast<float>(static_cast<float>(p.text.size()) * best - 0.1f) : p.score;
    pieces.push_back({p.text, score, p.type == Type::Normal || user, p.type == Type::Normal});
  }
  return std::make_unique<UnigramModel>(pieces, unk, model.byte_fallback, source + ": unknown piece");
}

}  // namespace

SpmTokenizer::SpmTokenizer(const SpmModelProto& model, const std::string& source,
                           const std::optional<JsonNode>& config)
    : pieces_(model.pieces),
      byte_fallback_(model.byte_fallback),
      add_dummy_prefix_(model.add_dummy_prefix),
      remove_extra_whitespaces_(model.remove_extra_whitespaces),
      escape_whitespaces_(model.escape_whitespaces) {
  if (model.model_type != SpmModelProto::ModelType::Bpe && model.model_type != SpmModelProto::ModelType::Unigram)
    fail(source, "only SentencePiece BPE and unigram models are supported (use tokenizer.json for this model)");
  if (!model.precompiled_charsmap.empty())
    charsmap_.emplace(model.precompiled_charsmap, source + ": normalizer_spec.precompiled_charsmap");
  if (model.treat_whitespace_as_suffix) fail(source, "treat_whitespace_as_suffix is not supported");
  std::vector<AddedToken> user_defined, controls;
  byte_ids_.fill(-1);
  std::optional<TokenId> unk;
  for (TokenId id = 0; id < static_cast<TokenId>(pieces_.size()); ++id) {
    const auto& piece = pieces_[id];
    utf8::require_valid(piece.text, source + ": piece " + std::to_string(id));
    switch (piece.type) {
      case Type::Normal: case Type::Unused: mergeable_.emplace(piece.text, id); break;
      case Type::UserDefined:
        mergeable_.emplace(piece.text, id);
        if (!piece.text.empty()) user_defined.push_back({piece.text, id});
        break;
      case Type::Unknown: case Type::Control:
        reserved_.emplace(piece.text, id);
        if (!piece.text.empty()) controls.push_back({piece.text, id, true});
        if (piece.type == Type::Unknown) unk = id;
        break;
      case Type::Byte: {
        reserved_.emplace(piece.text, id);
        unsigned value = 0;
        if (std::sscanf(piece.text.c_str(), "<0x%2X>", &value) != 1 || value > 255)
          fail(source, "byte piece " + std::to_string(id) + " is not of the form <0xXX>");
        byte_ids_[value] = id;
        break;
      }
    }
  }
  if (!unk) fail(source, "SentencePiece model has no unknown piece");
  unk_id_ = *unk;
  if (model.model_type == SpmModelProto::ModelType::Unigram) unigram_ = unigram_model(model, source, unk_id_);
  user_defined_ = AddedTokenMatcher(std::move(user_defined));
  control_pieces_ = AddedTokenMatcher(std::move(controls));
  if (auto it = reserved_.find(model.bos_piece); it != reserved_.end() && pieces_[it->second].type == Type::Control)
    special_.prefix.push_back(it->second);
  if (config)
    apply_tokenizer_config(*config, [this](std::string_view t) { return token_to_id(t); }, special_);
}

std::optional<TokenId> SpmTokenizer::token_to_id(std::string_view token) const {
  if (auto it = reserved_.find(token); it != reserved_.end()) return it->second;
  if (auto it = mergeable_.find(token); it != mergeable_.end()) return it->second;
  return std::nullopt;
}

// The next stretch of input and what it normalises to, as sentencepiece's NormalizePrefix:
// a user-defined piece verbatim, else the charsmap's longest key, else one character.
std::pair<std::size_t, std::string_view> SpmTokenizer::normalize_prefix(std::string_view text) const {
  if (!user_defined_.empty())
    if (const AddedToken* user = user_defined_.longest_at(text, 0)) return {user->content.size(), text.substr(0, user->content.size())};
  if (charsmap_)
    if (auto match = charsmap_->longest_prefix(text)) return *match;
  const std::size_t size = std::min(text.size(), utf8::sequence_length(static_cast<unsigned char>(text[0])));
  return {size, text.substr(0, size)};
}

std::string SpmTokenizer::normalize(std::string_view text) const {
  if (remove_extra_whitespaces_)  // heading whitespace, after normalisation
    while (!text.empty()) {
      const auto [size, piece] = normalize_prefix(text);
      if (piece != " ") break;
      text.remove_prefix(size);
    }
  std::string out;
  if (text.empty()) return out;
  const std::string_view space = escape_whitespaces_ ? kSpace : " ";
  if (add_dummy_prefix_) out += space;
  bool previous_space = remove_extra_whitespaces_;
  while (!text.empty()) {
    auto [size, piece] = normalize_prefix(text);
    text.remove_prefix(size);
    while (previous_space && !piece.empty() && piece.front() == ' ') piece.remove_prefix(1);
    if (!piece.empty()) {
      for (char c : piece) {
        if (c == ' ') out += space;
        else out += c;
      }
      previous_space = piece.back() == ' ';
    }
    if (!remove_extra_whitespaces_) previous_space = false;
  }
  if (remove_extra_whitespaces_)
    while (out.size() >= space.size() && out.ends_with(space)) out.resize(out.size() - space.size());
  return out;
}

void SpmTokenizer::encode_plain(std::string_view text, std::vector<TokenId>& out) const {
  const std::string normalized = normalize(text);
  if (unigram_) {
    unigram_->tokenize(normalized, out);
    return;
  }
  const std::string_view view = normalized;
  struct Symbol {
    std::size_t begin, size;
    int prev, next;
    bool frozen;  // user-defined pieces never merge
  };
  std::vector<Symbol> symbols;
  for (std::size_t pos = 0; pos < view.size();) {
    const AddedToken* user = user_defined_.empty() ? nullptr : user_defined_.longest_at(view, pos);
    const std::size_t size =
        user ? user->content.size() : utf8::sequence_length(static_cast<unsigned char>(view[pos]));
    const int index = static_cast<int>(symbols.size());
    symbols.push_back({pos, size, index - 1, index + 1, user != nullptr});
    pos += size;
  }
  if (symbols.empty()) return;
  symbols.back().next = -1;

  // Highest score first; on equal scores the leftmost pair.
  struct Candidate {
    float score;
    int left, right;
    std::size_t size;
    bool operator<(const Candidate& o) const { return score != o.score ? score < o.score : left > o.left; }
  };
  std::vector<Candidate> heap;
  std::map<std::string_view, std::pair<std::string_view, std::string_view>> unused_parts;
  auto consider = [&](int left, int right) {
    if (left < 0 || right < 0 || symbols[left].frozen || symbols[right].frozen) return;
    const auto piece = view.substr(symbols[left].begin, symbols[left].size + symbols[right].size);
    const auto it = mergeable_.find(piece);
    if (it == mergeable_.end()) return;
    heap.push_back({pieces_[it->second].score, left, right, piece.size()});
    std::push_heap(heap.begin(), heap.end());
    if (pieces_[it->second].type == Type::Unused)
      unused_parts[piece] = {view.substr(symbols[left].begin, symbols[left].size),
                             view.substr(symbols[right].begin, symbols[right].size)};
  };
  for (int i = 1; i < static_cast<int>(symbols.size()); ++i) consider(i - 1, i);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end());
    const Candidate top = heap.back();
    heap.pop_back();
    Symbol& left = symbols[top.left];
    Symbol& right = symbols[top.right];
    if (left.size == 0 || right.size == 0 || left.size + right.size != top.size) continue;  // stale
    left.size += right.size;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.left;
    right.size = 0;
    consider(left.prev, top.left);
    consider(top.left, left.next);
  }

  // Unused pieces are split back into the parts they were merged from (recursively).
  auto emit = [&](auto&& self, std::string_view piece) -> void {
    const auto id = token_to_id(piece);
    if (id && pieces_[*id].type == Type::Unused)
      if (auto parts = unused_parts.find(piece); parts != unused_parts.end()) {
        self(self, parts->second.first);
        self(self, parts->second.second);
        return;
      }
    if (id) {
      out.push_back(*id);
    } else if (byte_fallback_) {
      for (unsigned char byte : piece) out.push_back(byte_ids_[byte] >= 0 ? byte_ids_[byte] : unk_id_);
    } else {
      out.push_back(unk_id_);
    }
  };
  for (int i = 0; i >= 0; i = symbols[i].next) emit(emit, view.substr(symbols[i].begin, symbols[i].size));
}

std::vector<TokenId> SpmTokenizer::encode(std::string_view text, bool add_special) const {
  utf8::require_valid(text, "tokenizer input");
  std::vector<TokenId> ids;
  if (add_special) ids = special_.prefix;
  for (const auto& part : control_pieces_.split(text)) {
    if (part.id >= 0) ids.push_back(part.id);
    else encode_plain(text.substr(part.begin, part.end - part.begin), ids);
  }
  if (add_special) ids.insert(ids.end(), special_.suffix.begin(), special_.suffix.end());
  return ids;
}

}  // namespace relmoe
