#include "text/post_processor.hpp"

#include <algorithm>

namespace relmoe {
namespace {

std::vector<TokenId> special_ids(const std::optional<JsonNode>& specials, const JsonNode& item,
                                 const std::string& name) {
  if (!specials || !specials->json().contains(name))
    item.fail("special token '" + name + "' is not listed in special_tokens");
  const auto ids = specials->at(name).at("ids");
  std::vector<TokenId> out;
  for (std::size_t k = 0; k < ids.array().size(); ++k) {
    const auto id = ids.element(k).integer();
    if (id < 0 || id > INT32_MAX) ids.element(k).fail("token id out of range");
    out.push_back(static_cast<TokenId>(id));
  }
  return out;
}

std::int32_t type_id_of(const JsonNode& node) {
  const auto type = node.find("type_id");
  if (!type) return 0;
  if (type->integer() < 0 || type->integer() > 255) type->fail("type id out of range");
  return static_cast<std::int32_t>(type->integer());
}

// A template's items; a single template may only use sequence A, a pair template A and B.
std::vector<TemplateItem> read_items(const JsonNode& list, const std::optional<JsonNode>& specials, bool pair) {
  std::vector<TemplateItem> items;
  for (std::size_t i = 0; i < list.array().size(); ++i) {
    const auto item = list.element(i);
    if (auto sequence = item.find("Sequence")) {
      const auto id = sequence->at("id").string();
      if (id != "A" && !(pair && id == "B")) sequence->at("id").fail("unknown sequence '" + id + "'");
      items.push_back({id == "A" ? 0 : 1, {}, type_id_of(*sequence)});
      continue;
    }
    const auto token = item.at("SpecialToken");
    items.push_back({-1, special_ids(specials, item, token.at("id").string()), type_id_of(token)});
  }
  return items;
}

SpecialTokens read_template(const JsonNode& node) {
  const auto specials = node.find("special_tokens");
  const auto single = node.at("single");
  SpecialTokens out;
  bool after_sequence = false;
  for (const auto& item : read_items(single, specials, false)) {
    if (item.sequence >= 0) {
      if (after_sequence) single.fail("only one sequence is supported in 'single'");
      after_sequence = true;
      continue;
    }
    auto& target = after_sequence ? out.suffix : out.prefix;
    target.insert(target.end(), item.ids.begin(), item.ids.end());
  }
  if (!after_sequence) single.fail("no {\"Sequence\": ...} item");
  if (auto pair = node.find("pair")) out.pair = read_items(*pair, specials, true);
  return out;
}

// BertProcessing / RobertaProcessing: "cls": [token, id], "sep": [token, id].
SpecialTokens read_cls_sep(const JsonNode& node) {
  auto id_of = [&](const char* key) {
    const auto id = node.at(key).element(1).integer();
    if (id < 0 || id > INT32_MAX) node.at(key).element(1).fail("token id out of range");
    return static_cast<TokenId>(id);
  };
  const TokenId cls = id_of("cls"), sep = id_of("sep");
  // BERT: [CLS] A [SEP] B:1 [SEP]:1; RoBERTa: <s> A </s> </s> B </s>, one token type.
  const std::int32_t second = node.at("type").string() == "BertProcessing" ? 1 : 0;
  std::vector<TemplateItem> pair = {{-1, {cls}, 0}, {0, {}, 0}, {-1, {sep}, 0}};
  if (second == 0) pair.push_back({-1, {sep}, 0});
  pair.insert(pair.end(), {{1, {}, second}, {-1, {sep}, second}});
  return SpecialTokens{{cls}, {sep}, std::move(pair)};
}

SpecialTokens read_step(const JsonNode& node) {
  const auto type = node.at("type").string();
  if (type == "TemplateProcessing") return read_template(node);
  if (type == "BertProcessing" || type == "RobertaProcessing") return read_cls_sep(node);
  if (type == "ByteLevel") return {};  // only trims offsets
  if (type == "Sequence") {
    SpecialTokens out;
    const auto list = node.at("processors");
    for (std::size_t i = 0; i < list.array().size(); ++i) {
      auto step = read_step(list.element(i));
      out.prefix.insert(out.prefix.begin(), step.prefix.begin(), step.prefix.end());
      out.suffix.insert(out.suffix.end(), step.suffix.begin(), step.suffix.end());
      if (!step.pair.empty()) out.pair = std::move(step.pair);  // the one step that joins pairs
    }
    return out;
  }
  node.at("type").fail("unsupported post_processor type '" + type + "'");
}

// bos_token / eos_token: a string or an object with "content".
std::optional<TokenId> config_token(const JsonNode& config, const char* key, const TokenLookup& lookup) {
  const auto node = config.find(key);
  if (!node) return std::nullopt;
  const auto text = node->json().is_object() ? node->at("content").string() : node->string();
  auto id = lookup(text);
  if (!id) node->fail("token '" + text + "' is not in the vocabulary");
  return id;
}

// add_bos_token / add_eos_token: `front` selects the prefix's first or the suffix's last id.
void adjust(const JsonNode& config, const char* flag, const char* token_key, const TokenLookup& lookup,
            std::vector<TokenId>& ids, bool front) {
  const auto add = config.find(flag);
  if (!add) return;
  const bool wanted = add->boolean();
  const auto token = config_token(config, token_key, lookup);
  if (!token) return;
  const bool present = !ids.empty() && (front ? ids.front() : ids.back()) == *token;
  if (wanted && !present) ids.insert(front ? ids.begin() : ids.end(), *token);
  if (!wanted && present) ids.erase(front ? ids.begin() : ids.end() - 1);
}

}  // namespace

SpecialTokens read_post_processor(const std::optional<JsonNode>& post_processor) {
  return post_processor ? read_step(*post_processor) : SpecialTokens{};
}

void apply_tokenizer_config(const JsonNode& config, const TokenLookup& lookup, SpecialTokens& special) {
  const auto before = special;
  adjust(config, "add_bos_token", "bos_token", lookup, special.prefix, true);
  adjust(config, "add_eos_token", "eos_token", lookup, special.suffix, false);
  if (special.prefix != before.prefix || special.suffix != before.suffix) special.pair.clear();  // derived again
}

Encoding apply_pair_template(const SpecialTokens& special, const std::vector<TokenId>& a,
                             const std::vector<TokenId>& b, bool add_special) {
  std::vector<TemplateItem> items = special.pair;
  if (!add_special) items = {{0, {}, 0}, {1, {}, 1}};
  else if (items.empty())
    items = {{-1, special.prefix, 0}, {0, {}, 0}, {-1, special.suffix, 0},
             {-1, special.prefix, 1}, {1, {}, 1}, {-1, special.suffix, 1}};
  Encoding out;
  for (const auto& item : items) {
    const auto& ids = item.sequence < 0 ? item.ids : item.sequence == 0 ? a : b;
    out.ids.insert(out.ids.end(), ids.begin(), ids.end());
    out.type_ids.insert(out.type_ids.end(), ids.size(), item.type_id);
  }
  return out;
}

}  // namespace relmoe
