// tokenizer.json features the shared reference files do not exercise, checked against
// segmentations worked out by hand from the Hugging Face `tokenizers` semantics.
#include "text/tokenizer.hpp"

#include "support.hpp"

#include <fstream>

namespace {

using Ids = std::vector<relmoe::TokenId>;

std::unique_ptr<relmoe::Tokenizer> from_json(const std::string& json) {
  return relmoe::load_tokenizer_json_text(json, "test.json");
}

}  // namespace

TEST(TokenizerFeatures, MergesGivenAsArraysApplyByRank) {
  const auto tok = from_json(R"({"model": {"type": "BPE",
      "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "abc": 4, "bc": 5},
      "merges": [["a", "b"], ["ab", "c"], ["b", "c"]]}})");
  EXPECT_EQ(tok->encode("abc", false), (Ids{4}));     // a+b (rank 0) before b+c (rank 2)
  EXPECT_EQ(tok->encode("cab", false), (Ids{2, 3}));
  EXPECT_EQ(tok->encode("bcab", false), (Ids{5, 3}));
  EXPECT_EQ(tok->encode("aaa", false), (Ids{0, 0, 0}));
  EXPECT_EQ(tok->vocab_size(), 6u);
}

TEST(TokenizerFeatures, MetaspacePrependsOnlyAtTheStartWithSchemeFirst) {
  const auto tok = from_json(R"({
      "added_tokens": [{"id": 9, "content": "<x>", "special": true}],
      "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": true},
      "model": {"vocab": {"▁": 0, "h": 1, "i": 2, "hi": 3, "▁hi": 4},
                "merges": ["h i", "▁ hi"]}})");
  // "hi " -> "▁hi▁" split before each ▁ -> "▁hi" "▁"; " hi" after the token is not at the start.
  EXPECT_EQ(tok->encode("hi <x> hi", false), (Ids{4, 0, 9, 4}));
  EXPECT_EQ(tok->encode("<x>hi", false), (Ids{9, 3}));
}

TEST(TokenizerFeatures, AddedTokenFlags) {
  const auto tok = from_json(R"({
      "added_tokens": [
        {"id": 10, "content": "<m>", "lstrip": true, "rstrip": true, "special": true},
        {"id": 11, "content": "<n>", "special": true},
        {"id": 12, "content": "ab", "single_word": true, "special": false, "normalized": false}],
      "model": {"vocab": {"<unk>": 0, "a": 1, "b": 2, "c": 3}, "merges": [],
                "unk_token": "<unk>", "fuse_unk": true}})");
  EXPECT_EQ(tok->encode("a  <m> b", false), (Ids{1, 10, 2}));     // spaces swallowed
  EXPECT_EQ(tok->encode("a  <n> b", false), (Ids{1, 0, 11, 0, 2}));  // unknown spaces fused
  EXPECT_EQ(tok->encode("ab cab", false), (Ids{12, 0, 3, 1, 2}));  // "ab" inside a word stays text
  EXPECT_EQ(tok->token_to_id("<m>"), 10);
  EXPECT_EQ(tok->token_to_id("c"), 3);
  EXPECT_EQ(tok->token_to_id("zz"), std::nullopt);
}

TEST(TokenizerFeatures, ByteLevelVocabularyIsLookedUpInItsOwnSpelling) {
  // "Ġ" is the byte-level spelling of a space.
  const auto tok = from_json(R"({
      "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
      "model": {"vocab": {"Ġ": 0, "y": 1, "e": 2, "s": 3, "Ġy": 4, "es": 5, "Ġyes": 6},
                "merges": ["e s", "Ġ y", "Ġy es"]}})");
  EXPECT_EQ(tok->encode(" yes", false), (Ids{6}));
  EXPECT_EQ(tok->single_token_id(" yes"), 6);
  EXPECT_EQ(tok->single_token_id("yes"), std::nullopt);  // y + es
  EXPECT_EQ(tok->token_to_id("Ġyes"), 6);
}

TEST(TokenizerFeatures, TokenizerConfigAddsBosAndEos) {
  const auto dir = relmoe::test::scratch_dir() / "relmoe_tok_config";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "tokenizer.json") << R"({
      "added_tokens": [{"id": 1, "content": "<s>", "special": true},
                       {"id": 2, "content": "</s>", "special": true}],
      "post_processor": {"type": "ByteLevel"},
      "model": {"vocab": {"a": 0}, "merges": []}})";
  std::ofstream(dir / "tokenizer_config.json")
      << R"({"add_bos_token": true, "bos_token": "<s>", "add_eos_token": true, "eos_token": {"content": "</s>"}})";
  const auto tok = relmoe::load_tokenizer(dir);
  EXPECT_EQ(tok->encode("a", true), (Ids{1, 0, 2}));
  EXPECT_EQ(tok->encode("a", false), (Ids{0}));
}
