#include "text/wordpiece_model.hpp"

#include "text/utf8.hpp"

#include <algorithm>

namespace relmoe {

WordPieceModel::WordPieceModel(const JsonNode& node) {
  const auto vocab = node.at("vocab");
  for (const auto& [token, id] : vocab.object()) {
    if (!id.is_number_integer() || id.get<std::int64_t>() < 0 || id.get<std::int64_t>() > INT32_MAX)
      vocab.fail("id of '" + token + "' is not a non-negative 32-bit integer");
    vocab_.emplace(token, static_cast<TokenId>(id.get<std::int64_t>()));
    size_ = std::max<std::size_t>(size_, static_cast<std::size_t>(id.get<std::int64_t>()) + 1);
  }
  const auto unk = node.at("unk_token");
  const auto it = vocab_.find(unk.string());
  if (it == vocab_.end()) unk.fail("unknown token '" + unk.string() + "' is not in the vocabulary");
  unk_ = it->second;
  prefix_ = node.string_or("continuing_subword_prefix", "##");
  if (auto max = node.find("max_input_chars_per_word")) {
    if (max->integer() < 1) max->fail("must be positive");
    max_chars_ = static_cast<std::size_t>(max->integer());
  }
}

void WordPieceModel::tokenize(std::string_view word, std::vector<TokenId>& out) const {
  // Character boundaries: pieces end only there.
  std::vector<std::size_t> bounds{0};
  for (std::size_t pos = 0; pos < word.size();) {
    utf8::decode(word, pos);
    bounds.push_back(pos);
  }
  if (bounds.size() - 1 > max_chars_) {
    out.push_back(unk_);
    return;
  }
  const std::size_t mark = out.size();
  std::string candidate;
  for (std::size_t start = 0; start + 1 < bounds.size();) {
    std::size_t end = bounds.size() - 1;
    for (; end > start; --end) {
      candidate.assign(start > 0 ? prefix_ : std::string());
      candidate.append(word.substr(bounds[start], bounds[end] - bounds[start]));
      if (auto it = vocab_.find(candidate); it != vocab_.end()) {
        out.push_back(it->second);
        break;
      }
    }
    if (end == start) {  // no piece starts here: the whole word is unknown
      out.resize(mark);
      out.push_back(unk_);
      return;
    }
    start = end;
  }
}

std::optional<TokenId> WordPieceModel::token_to_id(std::string_view token) const {
  auto it = vocab_.find(std::string(token));
  return it == vocab_.end() ? std::nullopt : std::optional<TokenId>(it->second);
}

}  // namespace relmoe
