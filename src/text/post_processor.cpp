#include "text/post_processor.hpp"

#include <algorithm>

namespace relmoe {
namespace {

SpecialTokens read_template(const JsonNode& node) {
  const auto specials = node.find("special_tokens");
  const auto single = node.at("single");
  SpecialTokens out;
  bool after_sequence = false;
  for (std::size_t i = 0; i < single.array().size(); ++i) {
    const auto item = single.element(i);
    if (auto sequence = item.find("Sequence")) {
      if (after_sequence) sequence->fail("only one sequence is supported in 'single'");
      after_sequence = true;
      continue;
    }
    const auto name = item.at("SpecialToken").at("id").string();
    if (!specials || !specials->json().contains(name))
      item.fail("special token '" + name + "' is not listed in special_tokens");
    const auto ids = specials->at(name).at("ids");
    auto& target = after_sequence ? out.suffix : out.prefix;
    for (std::size_t k = 0; k < ids.array().size(); ++k) {
      const auto id = ids.element(k).integer();
      if (id < 0 || id > INT32_MAX) ids.element(k).fail("token id out of range");
      target.push_back(static_cast<TokenId>(id));
    }
  }
  if (!after_sequence) single.fail("no {\"Sequence\": ...} item");
  return out;
}

// BertProcessing / RobertaProcessing: "cls": [token, id], "sep": [token, id].
SpecialTokens read_cls_sep(const JsonNode& node) {
  auto id_of = [&](const char* key) {
    const auto id = node.at(key).element(1).integer();
    if (id < 0 || id > INT32_MAX) node.at(key).element(1).fail("token id out of range");
    return static_cast<TokenId>(id);
  };
  return SpecialTokens{{id_of("cls")}, {id_of("sep")}};
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
  adjust(config, "add_bos_token", "bos_token", lookup, special.prefix, true);
  adjust(config, "add_eos_token", "eos_token", lookup, special.suffix, false);
}

}  // namespace relmoe
