#include "expert_training/spm_train.hpp"

#include "base/error.hpp"
#include "io/durable_file.hpp"
#include "text/utf8.hpp"

#include <algorithm>
#include <unordered_map>

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <cerrno>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace relmoe {
namespace {

std::string tail_of(const std::filesystem::path& log) {
  std::ifstream in(log);
  // The trainer's own complaint ("... Internal: ...") says more than its final line.
  std::string line, last, complaint;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    last = line;
    if (line.find("Internal:") != std::string::npos) complaint = line.substr(line.find("Internal:"));
  }
  return complaint.empty() ? last : complaint;
}

// The character coverage that leaves at most half of the free vocabulary to single characters
// (the rest fall back to bytes): with several scripts, full coverage can exceed a small
// vocabulary, which spm_train refuses. `reserved` pieces (256 bytes, <unk> <s> </s>,
// user-defined symbols) come first. spm_train accepts coverages in [0.98, 1].
double character_coverage(const std::vector<std::string>& sentences, int vocab_size, int reserved) {
  if (vocab_size <= reserved + 1)
    fail("--train-tokenizer", "a vocabulary of " + std::to_string(vocab_size) + " leaves no room beside the " +
                                  std::to_string(reserved) + " reserved pieces (256 byte-fallback pieces, <unk>, <s>, </s>, " +
                                  "answer tokens); use more than " + std::to_string(reserved + 1));
  std::unordered_map<char32_t, std::size_t> counts;
  std::size_t total = 0;
  for (const auto& s : sentences)
    for (std::size_t pos = 0; pos < s.size(); ++total) ++counts[utf8::decode(s, pos)];
  std::vector<std::size_t> freq;
  for (const auto& [c, n] : counts) freq.push_back(n);
  std::sort(freq.begin(), freq.end(), std::greater<>());
  // Characters needed for coverage 0.98, and the coverage that fits the budget.
  const auto budget = static_cast<std::size_t>(std::max(2, vocab_size - reserved)) / 2;
  std::size_t covered = 0, needed = 0, kept = 0;
  for (std::size_t i = 0; i < freq.size(); ++i) {
    if (static_cast<double>(covered) < 0.98 * static_cast<double>(total)) needed = i + 1;
    covered += freq[i];
    if (i < budget) kept = covered;
  }
  if (freq.size() <= budget) return 1.0;
  if (needed > budget)
    fail("--train-tokenizer", "a vocabulary of " + std::to_string(vocab_size) + " is too small for the " +
                                  std::to_string(counts.size()) + " distinct characters of the training text; use at least " +
                                  std::to_string(reserved + 2 * needed));
  return static_cast<double>(kept) / static_cast<double>(total) - 1e-6;
}

// Runs `argv` with stdout and stderr going to `log`; returns the exit status (-1: not started).
int run(const std::vector<std::string>& argv, const std::filesystem::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

SpmTrainSpec parse_spm_spec(const std::string& spec) {
  auto colon = spec.find(':');
  SpmTrainSpec out;
  std::string kind = spec.substr(0, colon);
  if (kind == "spm-bpe") out.model_type = "bpe";
  if (kind == "spm-unigram") out.model_type = "unigram";
  const char* begin = spec.data() + (colon == std::string::npos ? spec.size() : colon + 1);
  const char* end = spec.data() + spec.size();
  auto [ptr, ec] = std::from_chars(begin, end, out.vocab_size);
  if (out.model_type.empty() || colon == std::string::npos || ec != std::errc() || ptr != end ||
      out.vocab_size < 100)
    fail("--train-tokenizer", "expected spm-bpe:V or spm-unigram:V with V >= 100, got '" + spec + "'");
  return out;
}

void train_sentencepiece(const std::vector<std::string>& sentences, const SpmTrainSpec& spec,
                         const std::vector<std::string>& single_pieces,
                         const std::filesystem::path& model_path) {
  if (sentences.empty()) fail("tokenizer training", "no training sentences");
  // Work files beside the model, so the final rename stays on one file system.
  const auto parent = model_path.has_parent_path() ? model_path.parent_path() : std::filesystem::path(".");
  const StagingDirectory staging(parent / ".spm-train");  // removed on every way out
  const auto& work = staging.path();
  {
    AtomicWriter out(work / "input.txt");
    for (const auto& s : sentences)
      if (!s.empty()) out.stream() << s << '\n';
    out.commit();
  }
  std::string symbols;
  for (const auto& piece : single_pieces) symbols += (symbols.empty() ? "" : ",") + piece;
  const char* tool = std::getenv("RELMOE_SPM_TRAIN");
  std::vector<std::string> argv{tool ? tool : "spm_train",
                                "--input=" + (work / "input.txt").string(),
                                "--model_prefix=" + (work / "spm").string(),
                                "--model_type=" + spec.model_type,
                                "--vocab_size=" + std::to_string(spec.vocab_size),
                                "--character_coverage=" + std::to_string(character_coverage(sentences, spec.vocab_size, 259 + static_cast<int>(single_pieces.size()))),
                                // Prompts are tokenized as written (no NFKC folding).
                                "--normalization_rule_name=identity",
                                "--byte_fallback=true",
                                "--user_defined_symbols=" + symbols,
                                "--input_sentence_size=1000000",
                                "--shuffle_input_sentence=false",
                                "--num_threads=1",  // determinism over speed; training takes seconds
                                // On a small corpus the vocabulary may come out smaller, not fail.
                                "--hard_vocab_limit=false"};
  int status = run(argv, work / "log.txt");
  if (status != 0) {
    std::string why = status < 0 ? "cannot run '" + argv[0] + "' (install the Debian package 'sentencepiece')"
                                 : "'" + argv[0] + "' failed (exit " + std::to_string(status) + "): " +
                                       tail_of(work / "log.txt");
    fail("tokenizer training", why);
  }
  rename_durably(work / "spm.model", model_path);
}

}  // namespace relmoe
