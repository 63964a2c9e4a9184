// WordPiece (BERT) and Unigram (XLM-R, Precompiled normaliser) tokenizer.json files against the
// ids Hugging Face tokenizers produced (../shared/reference/tokenization/encoders): single
// texts with and without special tokens, and sentence pairs with their token type ids; and the
// one-line errors malformed model and normaliser sections give.
#include "support.hpp"
#include "text/tokenizer.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::vector<json> lines_of(const fs::path& path) {
  std::vector<json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

void expect_reference(const std::string& reference, const std::string& model) {
  const auto shared = relmoe::test::shared_dir();
  const auto tokenizer = relmoe::load_tokenizer(shared / "reference/encoders" / model / "tokenizer.json");
  const auto refs = lines_of(shared / "reference/tokenization/encoders" / reference);
  ASSERT_GT(refs.size(), 200u);
  std::size_t pairs = 0;
  for (std::size_t i = 0; i < refs.size(); ++i) {
    const auto& r = refs[i];
    const auto text = r["text"].get<std::string>();
    EXPECT_EQ(tokenizer->encode(text, false), r["ids"].get<std::vector<relmoe::TokenId>>()) << reference << ": " << text;
    EXPECT_EQ(tokenizer->encode(text, true), r["ids_with_special"].get<std::vector<relmoe::TokenId>>()) << text;
    if (!r.contains("pair_with_next") || i + 1 >= refs.size()) continue;
    const auto& pair = r["pair_with_next"];
    const auto got = tokenizer->encode_pair(text, refs[i + 1]["text"].get<std::string>(), true);
    EXPECT_EQ(got.ids, pair["ids"].get<std::vector<relmoe::TokenId>>()) << text;
    const auto types = pair.contains("token_type_ids") ? pair["token_type_ids"].get<std::vector<std::int32_t>>()
                                                       : std::vector<std::int32_t>(got.ids.size(), 0);
    EXPECT_EQ(got.type_ids, types) << text;
    ++pairs;
  }
  EXPECT_GT(pairs, 200u);
}

std::string load_error(const json& tokenizer) {
  try {
    relmoe::load_tokenizer_json_text(tokenizer.dump(), "tokenizer.json")->encode("héllo wörld", true);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// A hand-built sentencepiece charsmap with one rule, U+FF21 (fullwidth A) -> "A": a darts-clone
// double array (unit = offset << 10 | has_leaf << 8 | label, a leaf's value unit has bit 31)
// walked root -> EF -> BC -> A1, then the normalised string "A\0". `leaf_offset` moves the
// last step's target (1953 is right).
json one_rule_charsmap(std::uint32_t leaf_offset = 1953) {
  std::vector<std::uint32_t> units(1025, 0);
  units[0] = 256u << 10;                         // root: base 256
  units[256 ^ 0xEF] = (1007u << 10) | 0xEF;      // base 512
  units[512 ^ 0xBC] = (444u << 10) | 0xBC;       // base 768 (700 ^ 444)
  units[768 ^ 0xA1] = (leaf_offset << 10) | (1u << 8) | 0xA1;  // base 1024 (929 ^ 1953)
  units[1024] = 1u << 31;                        // value 0: the string at byte 0
  json bytes = json::array();
  const std::uint32_t size = static_cast<std::uint32_t>(units.size() * 4);
  for (int i = 0; i < 4; ++i) bytes.push_back((size >> (8 * i)) & 0xFF);
  for (const auto u : units)
    for (int i = 0; i < 4; ++i) bytes.push_back((u >> (8 * i)) & 0xFF);
  bytes.push_back('A');
  bytes.push_back(0);
  return bytes;
}

json unigram_with_charsmap(const json& charsmap) {
  return {{"normalizer", {{"type", "Precompiled"}, {"precompiled_charsmap", charsmap}}},
          {"pre_tokenizer", {{"type", "Metaspace"}, {"replacement", "\u2581"}, {"prepend_scheme", "always"}}},
          {"model",
           {{"type", "Unigram"},
            {"unk_id", 0},
            {"vocab", json::array({json::array({"<unk>", 0.0}), json::array({"\xE2\x96\x81", -2.0}),
                                   json::array({"A", -1.0}), json::array({"\xE2\x96\x81" "A", -1.5}),
                                   json::array({"b", -3.0})})}}}};
}

json reference_json(const std::string& model) {
  return json::parse(std::ifstream(relmoe::test::shared_dir() / "reference/encoders" / model / "tokenizer.json"));
}

}  // namespace

TEST(EncoderTokenizer, WordPieceMatchesHuggingFace) {
  RELMOE_REQUIRE_SHARED("reference/tokenization/encoders/wordpiece.jsonl");
  expect_reference("wordpiece.jsonl", "tiny-bert");
}

TEST(EncoderTokenizer, UnigramWithPrecompiledCharsmapMatchesHuggingFace) {
  RELMOE_REQUIRE_SHARED("reference/tokenization/encoders/unigram.jsonl");
  expect_reference("unigram.jsonl", "tiny-xlm-roberta");
}

TEST(EncoderTokenizer, MalformedSectionsNameTheirJsonPath) {
  RELMOE_REQUIRE_SHARED("reference/encoders/tiny-xlm-roberta/tokenizer.json");
  auto bert = reference_json("tiny-bert");
  bert["model"]["vocab"].erase("[UNK]");
  EXPECT_NE(load_error(bert).find("tokenizer.json: model.unk_token: unknown token '[UNK]' is not in the vocabulary"),
            std::string::npos)
      << load_error(bert);

  auto xlmr = reference_json("tiny-xlm-roberta");
  auto& charsmap = xlmr["normalizer"]["normalizers"][0]["precompiled_charsmap"];
  const std::string full = charsmap.get<std::string>();
  charsmap = full.substr(0, full.size() / 2 / 4 * 4);  // truncated: the trie no longer fits
  EXPECT_NE(load_error(xlmr).find("normalizer.normalizers[0].precompiled_charsmap: trie size"), std::string::npos)
      << load_error(xlmr);
  charsmap = "!!!!";
  EXPECT_NE(load_error(xlmr).find("normalizer.normalizers[0].precompiled_charsmap: not base64"), std::string::npos)
      << load_error(xlmr);

  EXPECT_NE(load_error(unigram_with_charsmap(one_rule_charsmap(5000))).find("precompiled_charsmap: trie offset"),
            std::string::npos)
      << load_error(unigram_with_charsmap(one_rule_charsmap(5000)));

  xlmr = reference_json("tiny-xlm-roberta");
  xlmr["model"]["unk_id"] = 9999;
  EXPECT_NE(load_error(xlmr).find("model.unk_id: unknown piece id 9999"), std::string::npos) << load_error(xlmr);
  xlmr["model"].erase("unk_id");
  xlmr["model"]["vocab"] = json::array({json::array({"\xE2\x96\x81h", -1.0})});
  EXPECT_NE(load_error(xlmr).find("model.unk_id: absent"), std::string::npos) << load_error(xlmr);
  xlmr["model"]["vocab"] = json::array({json::array({"a"})});
  EXPECT_NE(load_error(xlmr).find("model.vocab[0]: expected [piece, score]"), std::string::npos) << load_error(xlmr);
}

TEST(EncoderTokenizer, PrecompiledCharsmapIsReadFromItsDoubleArray) {
  const auto tokenizer = relmoe::load_tokenizer_json_text(unigram_with_charsmap(one_rule_charsmap()).dump(), "t.json");
  // "\uFF21" normalises to "A": "\u2581A" is one piece; "b\uFF21" -> "\u2581", "b", "A"; "c" is unknown.
  EXPECT_EQ(tokenizer->encode("\xEF\xBC\xA1", false), (std::vector<relmoe::TokenId>{3}));
  EXPECT_EQ(tokenizer->encode("b\xEF\xBC\xA1", false), (std::vector<relmoe::TokenId>{1, 4, 2}));
  EXPECT_EQ(tokenizer->encode("cc", false), (std::vector<relmoe::TokenId>{1, 0}));  // unknowns fuse
}
