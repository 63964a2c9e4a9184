// Tokenizers built from GGUF metadata, on small vocabularies written here: what each of
// transformers' rules (integrations/gguf) does, shown where it changes the ids, and the errors.
// The real files against transformers itself are in tokenizer_test.cpp (Real/GgufTokenizers).
#include "base/error.hpp"
#include "gguf_bytes.hpp"
#include "io/gguf_tokenizer.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace relmoe {
namespace {

using Ids = std::vector<TokenId>;

struct Vocabulary {
  std::string architecture = "llama", model = "gpt2", pre = "default";
  std::vector<std::string> tokens;
  std::vector<std::int32_t> types;
  std::vector<float> scores;
  std::vector<std::string> merges;
  std::vector<std::pair<std::string, std::uint32_t>> ids;  // bos_token_id, ...
  std::vector<std::pair<std::string, bool>> flags;         // add_bos_token, ...
};

std::string gguf(const Vocabulary& v) {
  GgufBytes f;
  const std::size_t kvs = 4 + !v.types.empty() + !v.scores.empty() + !v.merges.empty() + v.ids.size() + v.flags.size();
  f.header(0, kvs);
  f.kv_str("general.architecture", v.architecture);
  f.kv_str("tokenizer.ggml.model", v.model);
  f.kv_str("tokenizer.ggml.pre", v.pre);
  f.kv_strings("tokenizer.ggml.tokens", v.tokens);
  if (!v.types.empty()) f.kv_int32s("tokenizer.ggml.token_type", v.types);
  if (!v.scores.empty()) f.kv_floats("tokenizer.ggml.scores", v.scores);
  if (!v.merges.empty()) f.kv_strings("tokenizer.ggml.merges", v.merges);
  for (const auto& [key, id] : v.ids) f.kv_u32("tokenizer.ggml." + key, id);
  for (const auto& [key, flag] : v.flags) f.kv_bool("tokenizer.ggml." + key, flag);
  return f.bytes;
}

std::unique_ptr<Tokenizer> build(const std::string& bytes) {
  return gguf_tokenizer(GgufFile::parse(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), "t.gguf"));
}

std::string refusal(const Vocabulary& v) {
  try {
    build(gguf(v));
  } catch (const Error& e) {
    return e.what();
  }
  return "(accepted)";
}

// Byte-level: ids 0..8. "<|end|>" is control, "<think>" user-defined, "x y" (a space, outside
// GPT-2's alphabet) is respelled "xĠy", and the control token "<|a b|>" is skipped.
Vocabulary byte_level() {
  Vocabulary v;
  v.pre = "qwen2";
  v.tokens = {"<|end|>", "a", "b", "ab", "\xC4\xA0", "\xC4\xA0" "a", "<think>", "\xC4\xA0" "ab", "x y", "<|a b|>"};
  v.types = {3, 1, 1, 1, 1, 1, 4, 1, 1, 3};
  v.merges = {"a b", "\xC4\xA0 ab"};
  return v;
}

TEST(GgufTokenizer, ByteLevelKeepsControlAndUserDefinedTokensWhole) {
  const auto tok = build(gguf(byte_level()));
  EXPECT_EQ(tok->encode("ab ab<|end|><think>", false), (Ids{3, 7, 0, 6}));
  EXPECT_EQ(tok->token_to_id("x\xC4\xA0y"), 8);
  EXPECT_EQ(tok->token_to_id("<|a\xC4\xA0" "b|>"), 9);  // respelled like any other token
  const auto spelled_out = tok->encode("<|a b|>", false);  // so not an added token
  EXPECT_EQ(std::count(spelled_out.begin(), spelled_out.end(), 9), 0);
  EXPECT_EQ(tok->encode("ab", true), (Ids{3}));          // byte-level files add no BOS unless they say so
}

TEST(GgufTokenizer, ByteLevelAddsBosAndEosWhenTheFileSaysSo) {
  auto v = byte_level();
  v.ids = {{"bos_token_id", 6}, {"eos_token_id", 0}};
  v.flags = {{"add_bos_token", true}, {"add_eos_token", true}};
  EXPECT_EQ(build(gguf(v))->encode("ab", true), (Ids{6, 3, 0}));
  const auto pair = build(gguf(v))->encode_pair("a", "b", true);
  EXPECT_EQ(pair.ids, (Ids{6, 1, 0, 6, 2, 0}));
}

// SentencePiece without merges: they come from the scores, best first. "▁a" and "ab" both merge
// "a"; whichever scores higher decides "ab" -> [▁, ab] or [▁a, b]. BOS is added by default.
Vocabulary sentencepiece(float score_of_ab) {
  Vocabulary v;
  v.model = "llama";
  v.tokens = {"<unk>", "<s>", "</s>", "\xE2\x96\x81", "a", "b", "\xE2\x96\x81" "a", "ab"};
  v.types = {2, 3, 3, 1, 1, 1, 1, 1};
  v.scores = {0, 0, 0, -1, -2, -3, -4, score_of_ab};
  v.ids = {{"bos_token_id", 1}, {"eos_token_id", 2}, {"unknown_token_id", 0}};
  return v;
}

TEST(GgufTokenizer, SentencePieceMergesFollowTheScores) {
  EXPECT_EQ(build(gguf(sentencepiece(-5)))->encode("ab", false), (Ids{6, 5}));
  EXPECT_EQ(build(gguf(sentencepiece(-3.5f)))->encode("ab", false), (Ids{3, 7}));
  EXPECT_EQ(build(gguf(sentencepiece(-5)))->encode("ab", true), (Ids{1, 6, 5}));
  auto v = sentencepiece(-5);
  v.flags = {{"add_bos_token", false}};
  EXPECT_EQ(build(gguf(v))->encode("ab", true), (Ids{6, 5}));
}

// Gemma: no Metaspace prefix, spaces become "▁" in the normalizer, merges rank by position (the
// scores, which would put "ab" first, are ignored), and a token of spaces only is respelled.
TEST(GgufTokenizer, GemmaRanksMergesByPositionAndRespellsSpaces) {
  Vocabulary v = sentencepiece(-3.5f);
  v.architecture = "gemma3";
  v.tokens.push_back("  ");  // id 8, user-defined: respelled "▁▁", so no longer an added token
  v.types.push_back(4);
  v.scores.push_back(0);
  const auto tok = build(gguf(v));
  EXPECT_EQ(tok->encode("ab", false), (Ids{7}));  // no "▁" prefix
  EXPECT_EQ(tok->encode(" ab", false), (Ids{6, 5}));
  EXPECT_EQ(tok->token_to_id("\xE2\x96\x81\xE2\x96\x81"), 8);
  EXPECT_EQ(tok->encode("a  ", false), (Ids{4, 8}));
}

TEST(GgufTokenizer, BadMetadataIsRefusedNamingTheKey) {
  Vocabulary no_model = byte_level();
  no_model.model = "t5";
  EXPECT_NE(refusal(no_model).find("tokenizer.ggml.model 't5' is not supported"), std::string::npos) << refusal(no_model);
  Vocabulary short_types = byte_level();
  short_types.types.pop_back();
  EXPECT_NE(refusal(short_types).find("tokenizer.ggml.token_type has 9 entries for 10 tokens"), std::string::npos);
  Vocabulary bad_merge = byte_level();
  bad_merge.merges.push_back("abc");
  EXPECT_NE(refusal(bad_merge).find("tokenizer.ggml.merges[2]"), std::string::npos) << refusal(bad_merge);
  Vocabulary bad_bos = byte_level();
  bad_bos.ids = {{"bos_token_id", 10}};
  EXPECT_NE(refusal(bad_bos).find("tokenizer.ggml.bos_token_id 10 is outside the 10 tokens"), std::string::npos);
  Vocabulary invalid = byte_level();
  invalid.tokens[1] = "\xFF";
  EXPECT_NE(refusal(invalid).find("tokenizer.ggml.tokens[1]"), std::string::npos) << refusal(invalid);
  Vocabulary no_scores = sentencepiece(-5);
  no_scores.scores.clear();
  EXPECT_NE(refusal(no_scores).find("needs tokenizer.ggml.merges or tokenizer.ggml.scores"), std::string::npos);
  Vocabulary no_merges = byte_level();
  no_merges.merges.clear();
  EXPECT_NE(refusal(no_merges).find("needs tokenizer.ggml.merges or tokenizer.ggml.scores"), std::string::npos);
  GgufBytes none;
  none.header(0, 1);
  none.kv_str("general.architecture", "llama");
  try {
    build(none.bytes);
    ADD_FAILURE() << "a file without a tokenizer was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("carries no tokenizer"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace relmoe
