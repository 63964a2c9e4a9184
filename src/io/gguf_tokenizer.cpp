#include "io/gguf_tokenizer.hpp"

#include "base/error.hpp"
#include "text/byte_level.hpp"
#include "text/hf_tokenizer.hpp"
#include "text/json_node.hpp"
#include "text/utf8.hpp"

#include <algorithm>
#include <map>
#include <string_view>
#include <tuple>
#include <unordered_map>

namespace relmoe {
namespace {

using nlohmann::json;

// llama.cpp's token types (llama_token_type).
constexpr std::int64_t kControl = 3, kUserDefined = 4;
// Merges are rebuilt only for tokens up to this many bytes, which bounds the work to a constant
// times the vocabulary's size whatever the file; SentencePiece pieces are at most 16 characters.
constexpr std::size_t kMaxMergedTokenBytes = 256;

// The split regexes transformers gives byte-level vocabularies by tokenizer.ggml.pre
// (integrations/gguf/gguf_tokenizer_mapping.py); any other family keeps GPT-2's own.
constexpr const char* kLlama3Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen35Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kTekkenSplit =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kGpt4oSplit =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

const char* split_regex(const std::string& pre) {
  static const std::unordered_map<std::string, const char*> table = {
      {"llama3", kLlama3Split},    {"llama-v3", kLlama3Split},     {"llama-bpe", kLlama3Split},
      {"falcon3", kLlama3Split},   {"falcon-h1", kLlama3Split},    {"pixtral", kLlama3Split},
      {"midm-2.0", kLlama3Split},  {"lfm2", kLlama3Split},         {"jina-v5-nano", kLlama3Split},
      {"dbrx", kLlama3Split},      {"smaug-bpe", kLlama3Split},    {"tekken", kTekkenSplit},
      {"qwen2", kQwen2Split},      {"deepseek-r1-qwen", kQwen2Split}, {"kormo", kQwen2Split},
      {"f2llmv2", kQwen2Split},    {"megrez", kQwen2Split},        {"qwen35", kQwen35Split},
      {"gpt-4o", kGpt4oSplit},     {"llama4", kGpt4oSplit},        {"kanana2", kGpt4oSplit},
      {"talkie", kGpt4oSplit},     {"minimax-m2", kGpt4oSplit},
  };
  const auto it = table.find(pre);
  return it == table.end() ? nullptr : it->second;
}

// Python's str.isspace, which decides which Gemma tokens transformers respells.
bool python_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t pos = 0; pos < s.size(); pos += utf8::sequence_length(static_cast<unsigned char>(s[pos]))) ++n;
  return n;
}

// What the file says about its tokenizer, with the tokens as transformers spells them.
struct GgufVocabulary {
  std::string model, pre;
  std::vector<std::string> file_tokens;  // as the file writes them
  std::vector<std::string> tokens;       // as the vocabulary spells them
  std::vector<std::int64_t> types;       // empty when the file has none
  const GgufArray* scores = nullptr;
  const GgufArray* merges = nullptr;
  std::unordered_map<std::string_view, TokenId> ids;  // spelling -> last id with it
  bool byte_level = false, gemma = false;
};

GgufVocabulary read_vocabulary(const GgufFile& file) {
  GgufVocabulary v;
  const auto model = file.string("tokenizer.ggml.model");
  if (!model) fail(file.file(), "no tokenizer.ggml.model: this GGUF file carries no tokenizer");
  v.model = *model;
  v.pre = file.string("tokenizer.ggml.pre").value_or("default");
  const auto architecture = file.string("general.architecture").value_or("");
  if (v.model != "gpt2" && v.model != "llama")
    fail(file.file(), "tokenizer.ggml.model '" + v.model + "' is not supported (gpt2: byte-level BPE, llama: SentencePiece)");
  v.byte_level = v.model == "gpt2";
  v.gemma = !v.byte_level && (architecture == "gemma" || architecture == "gemma2" || architecture == "gemma3");

  const GgufArray* tokens = file.array("tokenizer.ggml.tokens", GgufType::String);
  if (!tokens || tokens->count == 0) fail(file.file(), "tokenizer.ggml.tokens is missing or empty");
  if (tokens->count > static_cast<std::uint64_t>(INT32_MAX)) fail(file.file(), "tokenizer.ggml.tokens: too many tokens");
  const auto n = static_cast<std::size_t>(tokens->count);
  auto check_count = [&](const GgufArray* array, const char* key) {
    if (array && array->count != n)
      fail(file.file(), std::string(key) + " has " + std::to_string(array->count) + " entries for " +
                            std::to_string(n) + " tokens");
    return array;
  };
  if (const auto* types = check_count(file.array("tokenizer.ggml.token_type", GgufType::Int32), "tokenizer.ggml.token_type"))
    for (std::size_t i = 0; i < n; ++i) v.types.push_back(types->integer(i));
  v.scores = check_count(file.array("tokenizer.ggml.scores", GgufType::Float32), "tokenizer.ggml.scores");
  v.merges = file.array("tokenizer.ggml.merges", GgufType::String);
  // Without merges they are rebuilt from the scores (Gemma: from the order of the tokens).
  if (!v.merges && !v.scores && !v.gemma)
    fail(file.file(), "the vocabulary needs tokenizer.ggml.merges or tokenizer.ggml.scores");

  v.file_tokens.reserve(n);
  v.tokens.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::string_view token = tokens->strings[i];
    utf8::require_valid(token, file.file() + ": tokenizer.ggml.tokens[" + std::to_string(i) + "]");
    v.file_tokens.emplace_back(token);
    std::string spelled(token);
    if (v.byte_level && !byte_level::decode(token)) {
      spelled = byte_level::encode(token);
    } else if (v.gemma && token.find(' ') != std::string_view::npos) {
      bool blank = true;
      for (std::size_t pos = 0; pos < token.size() && blank;) blank = python_space(utf8::decode(token, pos));
      if (blank) {
        spelled.clear();
        for (std::size_t k = code_points(token); k > 0; --k) spelled += "\u2581";
      }
    }
    v.tokens.push_back(std::move(spelled));
  }
  for (std::size_t i = 0; i < n; ++i) v.ids[v.tokens[i]] = static_cast<TokenId>(i);
  return v;
}

// transformers' generate_merges with scores: every split of a token into two vocabulary entries,
// best score first, then longer left and right sides, ties in vocabulary order.
std::vector<std::pair<std::string_view, std::string_view>> rebuilt_merges(const GgufVocabulary& v) {
  struct Candidate {
    std::string_view left, right;
    double score;
    std::size_t left_chars, right_chars;
  };
  // A token's score is that of its last occurrence; its place, that of its first.
  std::unordered_map<std::string_view, double> score;
  std::vector<std::string_view> order;
  for (std::size_t i = 0; i < v.tokens.size(); ++i) {
    const double s = v.gemma ? -static_cast<double>(i) : v.scores->number(i);
    auto [it, inserted] = score.try_emplace(v.tokens[i], s);
    if (inserted) order.push_back(v.tokens[i]);
    else it->second = s;
  }
  std::vector<Candidate> merges, local;
  for (const std::string_view token : order) {
    if (token.size() > kMaxMergedTokenBytes) continue;
    local.clear();
    for (std::size_t cut = utf8::sequence_length(static_cast<unsigned char>(token[0])); cut < token.size();
         cut += utf8::sequence_length(static_cast<unsigned char>(token[cut]))) {
      const auto left = token.substr(0, cut), right = token.substr(cut);
      if (v.ids.count(left) && v.ids.count(right))
        local.push_back({left, right, score[token], code_points(left), code_points(right)});
    }
    std::stable_sort(local.begin(), local.end(), [&](const Candidate& a, const Candidate& b) {
      const auto ka = std::pair(v.ids.at(a.left), v.ids.at(a.right)), kb = std::pair(v.ids.at(b.left), v.ids.at(b.right));
      return ka < kb;
    });
    merges.insert(merges.end(), local.begin(), local.end());
  }
  std::stable_sort(merges.begin(), merges.end(), [](const Candidate& a, const Candidate& b) {
    return std::tie(a.score, a.left_chars, a.right_chars) > std::tie(b.score, b.left_chars, b.right_chars);
  });
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  pairs.reserve(merges.size());
  for (const auto& m : merges) pairs.emplace_back(m.left, m.right);
  return pairs;
}

json merges_json(const GgufFile& file, const GgufVocabulary& v) {
  json merges = json::array();
  if (v.merges) {
    for (std::size_t i = 0; i < v.merges->count; ++i) {
      const std::string_view merge = v.merges->strings[i];
      const auto space = merge.find(' ');
      if (space == std::string_view::npos || merge.find(' ', space + 1) != std::string_view::npos)
        fail(file.file(), "tokenizer.ggml.merges[" + std::to_string(i) + "]: expected two tokens separated by one space");
      utf8::require_valid(merge, file.file() + ": tokenizer.ggml.merges[" + std::to_string(i) + "]");
      merges.push_back(json::array({merge.substr(0, space), merge.substr(space + 1)}));
    }
    return merges;
  }
  for (const auto& [left, right] : rebuilt_merges(v)) merges.push_back(json::array({left, right}));
  return merges;
}

json model_json(const GgufFile& file, const GgufVocabulary& v) {
  json vocab = json::object();
  for (std::size_t i = 0; i < v.tokens.size(); ++i) vocab[v.tokens[i]] = i;
  json model = {{"type", "BPE"}, {"dropout", nullptr}, {"ignore_merges", false}};
  if (v.byte_level) {
    model.update({{"unk_token", nullptr}, {"continuing_subword_prefix", ""}, {"end_of_word_suffix", ""},
                  {"fuse_unk", false}, {"byte_fallback", false}});
  } else {
    // GemmaTokenizer names "<unk>"; LlamaTokenizer, built from a vocabulary, names none.
    model.update({{"unk_token", v.gemma ? json("<unk>") : json(nullptr)}, {"continuing_subword_prefix", nullptr},
                  {"end_of_word_suffix", nullptr}, {"fuse_unk", true}, {"byte_fallback", true}});
  }
  model["vocab"] = std::move(vocab);
  model["merges"] = merges_json(file, v);
  return model;
}

json pre_tokenizer_json(const GgufVocabulary& v) {
  if (const char* split = split_regex(v.pre))
    return {{"type", "Sequence"},
            {"pretokenizers",
             {{{"type", "Split"}, {"pattern", {{"Regex", split}}}, {"behavior", "Isolated"}, {"invert", false}},
              {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}}}}};
  if (v.byte_level)
    return {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}};
  if (v.gemma)
    return {{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "MergedWithPrevious"}, {"invert", false}};
  return {{"type", "Metaspace"}, {"replacement", "\u2581"}, {"prepend_scheme", "first"}, {"split", false}};
}

json decoder_json(const GgufVocabulary& v) {
  if (v.byte_level)
    return {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
  json steps = {{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
                {{"type", "ByteFallback"}},
                {{"type", "Fuse"}}};
  if (!v.gemma) steps.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
  return {{"type", "Sequence"}, {"decoders", std::move(steps)}};
}

// A token the file names by id (tokenizer.ggml.bos_token_id, ...), as the file writes it.
struct NamedToken {
  std::string content;
  TokenId id;
};
struct NamedTokens {
  std::optional<NamedToken> bos, eos, unk, pad;
};

NamedTokens named_tokens(const GgufFile& file, const GgufVocabulary& v) {
  auto token = [&](const char* key) -> std::optional<NamedToken> {
    const auto id = file.uint(key);
    if (!id) return std::nullopt;
    if (*id >= v.file_tokens.size())
      fail(file.file(), std::string(key) + " " + std::to_string(*id) + " is outside the " +
                            std::to_string(v.file_tokens.size()) + " tokens");
    return NamedToken{v.file_tokens[*id], static_cast<TokenId>(*id)};
  };
  return {token("tokenizer.ggml.bos_token_id"), token("tokenizer.ggml.eos_token_id"),
          token("tokenizer.ggml.unknown_token_id"), token("tokenizer.ggml.padding_token_id")};
}

json added_tokens_json(const GgufVocabulary& v, const NamedTokens& named) {
  std::map<TokenId, std::pair<std::string, bool>> added;  // id -> content, special
  auto add = [&](const std::string& content, bool special) {
    const auto it = v.ids.find(content);
    if (it != v.ids.end()) added.try_emplace(it->second, content, special);
  };
  for (std::size_t i = 0; i < v.types.size(); ++i) {
    const auto& token = v.file_tokens[i];
    // A control token outside the byte alphabet is a llama.cpp mislabel; transformers skips it.
    if (v.types[i] == kControl && (!v.byte_level || byte_level::decode(token))) add(token, true);
  }
  for (std::size_t i = 0; i < v.types.size(); ++i)
    if (v.types[i] == kUserDefined) add(v.file_tokens[i], false);
  for (const auto* token : {&named.bos, &named.eos, &named.unk, &named.pad})
    if (*token) add((*token)->content, true);
  json list = json::array();
  for (const auto& [id, token] : added)
    list.push_back({{"id", id}, {"content", token.first}, {"single_word", false}, {"lstrip", false},
                    {"rstrip", false}, {"normalized", false}, {"special", token.second}});
  return list;
}

// Whether BOS / EOS are added: the file's flags; SentencePiece files add BOS unless they say not.
struct AddedEnds {
  bool bos, eos;
};

AddedEnds added_ends(const GgufFile& file, const GgufVocabulary& v, const NamedTokens& named) {
  return {file.boolean("tokenizer.ggml.add_bos_token").value_or(!v.byte_level) && named.bos.has_value(),
          file.boolean("tokenizer.ggml.add_eos_token").value_or(false) && named.eos.has_value()};
}

// transformers' update_post_processor: "[bos:0] $A:0 [eos:0]" and "... [bos:1] $B:1 [eos:1]".
json post_processor_json(const GgufVocabulary& v, const NamedTokens& named, AddedEnds ends) {
  json single = json::array(), pair = json::array(), special = json::object();
  auto token = [&](const NamedToken& named_token, int type_id) {
    const auto& content = named_token.content;
    const auto it = v.ids.find(content);
    special[content] = {{"id", content}, {"ids", {it != v.ids.end() ? it->second : named_token.id}}, {"tokens", {content}}};
    return json{{"SpecialToken", {{"id", content}, {"type_id", type_id}}}};
  };
  auto sequence = [](const char* id, int type_id) { return json{{"Sequence", {{"id", id}, {"type_id", type_id}}}}; };
  for (int side = 0; side < 2; ++side) {
    json& target = side == 0 ? single : pair;
    for (int type_id = 0; type_id <= side; ++type_id) {
      if (ends.bos) target.push_back(token(*named.bos, type_id));
      target.push_back(sequence(type_id == 0 ? "A" : "B", type_id));
      if (ends.eos) target.push_back(token(*named.eos, type_id));
    }
  }
  return {{"type", "TemplateProcessing"}, {"single", single}, {"pair", pair}, {"special_tokens", special}};
}

}  // namespace

json gguf_tokenizer_json(const GgufFile& file) {
  const auto v = read_vocabulary(file);
  const auto named = named_tokens(file, v);
  json root = {{"version", "1.0"}, {"truncation", nullptr}, {"padding", nullptr}};
  root["added_tokens"] = added_tokens_json(v, named);
  root["normalizer"] = v.gemma ? json{{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\u2581"}}
                               : json(nullptr);
  root["pre_tokenizer"] = pre_tokenizer_json(v);
  root["post_processor"] = post_processor_json(v, named, added_ends(file, v, named));
  root["decoder"] = decoder_json(v);
  root["model"] = model_json(file, v);
  return root;
}

json gguf_tokenizer_config_json(const GgufFile& file) {
  const auto v = read_vocabulary(file);
  const auto named = named_tokens(file, v);
  const auto ends = added_ends(file, v, named);
  json config = {{"tokenizer_class", "PreTrainedTokenizerFast"}, {"add_bos_token", ends.bos}, {"add_eos_token", ends.eos}};
  const std::pair<const char*, const std::optional<NamedToken>*> names[] = {
      {"bos_token", &named.bos}, {"eos_token", &named.eos}, {"unk_token", &named.unk}, {"pad_token", &named.pad}};
  for (const auto& [key, token] : names)
    if (*token) config[key] = (*token)->content;
  return config;
}

std::unique_ptr<Tokenizer> gguf_tokenizer(const GgufFile& file) {
  const auto root = gguf_tokenizer_json(file);
  const std::string source = file.file() + " (its tokenizer)";
  return std::make_unique<HfTokenizer>(JsonNode(root, source), std::nullopt);
}

}  // namespace relmoe
