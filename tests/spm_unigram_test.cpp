// SentencePiece unigram tokenizer.model files with a compiled normalisation map (nmt_nfkc, as
// XLM-R ships) through relmoe's reader, against SentencePiece's own spm_encode: a model is trained
// here with spm_train (user-defined pieces, byte fallback) and both encode the same strings.
#include "support.hpp"
#include "synth/synth.hpp"
#include "pipeline_support.hpp"
#include "text/tokenizer.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace {

namespace fs = std::filesystem;

std::vector<std::vector<relmoe::TokenId>> spm_encode_lines(const fs::path& model, const std::vector<std::string>& lines) {
  const auto in = relmoe::test::scratch_dir() / "spm_unigram_in.txt", out = relmoe::test::scratch_dir() / "spm_unigram_out.txt";
  {
    std::ofstream file(in);
    for (const auto& l : lines) file << l << "\n";
  }
  const auto cmd = "spm_encode --model=" + model.string() + " --output_format=id < " + in.string() + " > " + out.string();
  if (std::system(cmd.c_str()) != 0) return {};
  std::vector<std::vector<relmoe::TokenId>> result;
  std::ifstream file(out);
  for (std::string line; std::getline(file, line);) {
    std::istringstream ids(line);
    result.emplace_back();
    for (relmoe::TokenId id; ids >> id;) result.back().push_back(id);
  }
  return result;
}

}  // namespace

TEST(SpmUnigram, NmtNfkcModelEncodesAsSentencePieceDoes) {
  if (std::system("spm_train --help > /dev/null 2>&1") != 0) GTEST_SKIP() << "spm_train / spm_encode not installed";
  const auto dir = relmoe::test::scratch_dir() / "spm_unigram";
  fs::create_directories(dir);
  relmoe::synth::Options o;
  o.pairs = 3000;
  o.seed = 4;
  const auto corpus = relmoe::synth::generate(o).corpus;
  {
    std::ofstream file(dir / "corpus.txt");
    for (const auto& line : corpus) file << line << "\n";
    file << "ＦＵＬＬ ｗｉｄｔｈ ﬁne ligatures ① ② ｶﾞｷﾞ Ǆ\n";
  }
  const std::string train = "spm_train --input=" + (dir / "corpus.txt").string() + " --model_prefix=" + (dir / "m").string() +
                            " --model_type=unigram --vocab_size=700 --normalization_rule_name=nmt_nfkc"
                            " --user_defined_symbols=▁yes,▁no,XL --byte_fallback=true --character_coverage=0.995"
                            " --num_threads=1 --hard_vocab_limit=false > " + (dir / "log.txt").string() + " 2>&1";
  ASSERT_EQ(std::system(train.c_str()), 0) << relmoe::test::read_text(dir / "log.txt");
  const auto model = dir / "m.model";

  std::vector<std::string> lines(corpus.begin(), corpus.begin() + 300);
  for (const char* hard : {"ＦＵＬＬ ｗｉｄｔｈ", "ﬁne ligature", "  many   spaces  ", "tab\there", "①② ｶﾞ Ǆ",
                           "e\xCC\x81 combining", "漢字 ẞ € 🙂", "size XL yes no", "query: shoe | relevant: yes", ""})
    lines.push_back(hard);
  const auto want = spm_encode_lines(model, lines);
  ASSERT_EQ(want.size(), lines.size());
  const auto tokenizer = relmoe::load_tokenizer(model);
  for (std::size_t i = 0; i < lines.size(); ++i) EXPECT_EQ(tokenizer->encode(lines[i], false), want[i]) << lines[i];
}
