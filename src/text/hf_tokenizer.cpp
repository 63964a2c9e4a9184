#include "text/hf_tokenizer.hpp"

#include "text/utf8.hpp"

#include <algorithm>

namespace relmoe {
namespace {

std::vector<AddedToken> read_added_tokens(const JsonNode& root) {
  std::vector<AddedToken> tokens;
  const auto list = root.find("added_tokens");
  if (!list) return tokens;
  for (std::size_t i = 0; i < list->array().size(); ++i) {
    const auto item = list->element(i);
    AddedToken token;
    const auto id = item.at("id").integer();
    if (id < 0 || id > INT32_MAX) item.at("id").fail("token id out of range");
    token.id = static_cast<TokenId>(id);
    token.content = item.at("content").string();
    if (token.content.empty()) item.at("content").fail("empty added token");
    utf8::require_valid(token.content, item.source() + ": " + item.path() + ".content");
    token.special = item.boolean_or("special", false);
    token.lstrip = item.boolean_or("lstrip", false);
    token.rstrip = item.boolean_or("rstrip", false);
    token.single_word = item.boolean_or("single_word", false);
    token.normalized = item.boolean_or("normalized", !token.special);
    tokens.push_back(std::move(token));
  }
  return tokens;
}

}  // namespace

HfTokenizer::HfTokenizer(const JsonNode& root, const std::optional<JsonNode>& config) {
  root.object();  // the top level must be an object
  if (auto normalizer = root.find("normalizer")) normalizer_ = make_normalizer(*normalizer);
  pre_tokenization_ = make_pre_tokenization(root.find("pre_tokenizer"));
  model_ = make_subword_model(root.at("model"), pre_tokenization_.byte_level);
  vocab_size_ = model_->size();

  std::vector<AddedToken> raw, normalized;
  for (auto& token : read_added_tokens(root)) {
    added_ids_.emplace(token.content, token.id);
    vocab_size_ = std::max<std::size_t>(vocab_size_, std::size_t(token.id) + 1);
    (token.normalized && normalizer_ ? normalized : raw).push_back(std::move(token));
  }
  raw_added_ = AddedTokenMatcher(std::move(raw));
  normalized_added_ = AddedTokenMatcher(std::move(normalized));

  special_ = read_post_processor(root.find("post_processor"));
  std::vector<const std::vector<TokenId>*> lists = {&special_.prefix, &special_.suffix};
  for (const auto& item : special_.pair) lists.push_back(&item.ids);
  for (const auto* ids : lists)
    for (TokenId id : *ids)
      if (static_cast<std::size_t>(id) >= vocab_size_)
        root.at("post_processor").fail("special token id " + std::to_string(id) + " is outside the vocabulary");
  if (config)
    apply_tokenizer_config(*config, [this](std::string_view t) { return token_to_id(t); }, special_);
}

std::optional<TokenId> HfTokenizer::token_to_id(std::string_view token) const {
  if (auto it = added_ids_.find(std::string(token)); it != added_ids_.end()) return it->second;
  return model_->token_to_id(token);
}

void HfTokenizer::encode_plain(std::string_view text, bool at_start, std::vector<TokenId>& out) const {
  std::vector<Piece> pieces{{std::string(text), at_start}};
  pre_tokenization_.splitter->pre_tokenize(pieces);
  for (const auto& piece : pieces) model_->tokenize(piece.text, out);
}

std::vector<TokenId> HfTokenizer::encode(std::string_view text, bool add_special) const {
  utf8::require_valid(text, "tokenizer input");
  std::vector<TokenId> ids;
  if (add_special) ids = special_.prefix;
  for (const auto& part : raw_added_.split(text)) {
    if (part.id >= 0) {
      ids.push_back(part.id);
      continue;
    }
    std::string segment(text.substr(part.begin, part.end - part.begin));
    if (normalizer_) normalizer_->normalize(segment);
    const bool at_start = part.begin == 0;
    if (normalized_added_.empty()) {
      encode_plain(segment, at_start, ids);
      continue;
    }
    for (const auto& sub : normalized_added_.split(segment)) {
      if (sub.id >= 0) ids.push_back(sub.id);
      else encode_plain(std::string_view(segment).substr(sub.begin, sub.end - sub.begin),
                        at_start && sub.begin == 0, ids);
    }
  }
  if (add_special) ids.insert(ids.end(), special_.suffix.begin(), special_.suffix.end());
  return ids;
}

}  // namespace relmoe
