#pragma once
// Training a small decoder expert from scratch: initialise a qwen2/llama/gemma2 model of a
// tiny size, optionally pre-train it with the next-token loss on a text corpus, then fine-tune
// it as a causal LM answering the relevance prompt with " yes" / " no" (the loss is the
// binary cross-entropy of logit(yes) - logit(no) at the prompt's last token, exactly the score
// the runtime computes). The result is a Hugging Face-format directory the runtime loads like
// any checkpoint. Training is resumable: state is checkpointed under DIR/.train-state.
#include "io/pair_reader.hpp"
#include "models/transformer.hpp"

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace relmoe {

struct ExpertTrainOptions {
  std::string arch = "qwen2";             // qwen2 | llama | gemma2
  std::string size = "tiny";              // tiny | small
  std::filesystem::path tokenizer;        // an existing tokenizer (file or directory), or
  std::string train_tokenizer;            // "spm-bpe:V" | "spm-unigram:V" trained on the data
  std::filesystem::path pretrain_corpus;  // optional: one text per line
  std::filesystem::path data;             // labelled pairs, any format read_pairs reads
  ColumnMapping columns;
  PairFormat format = PairFormat::Auto;
  std::vector<std::string> markets;       // fine-tune on these markets' pairs only (empty: all)
  std::filesystem::path out;
  long pretrain_steps = 300;
  long steps = 600;
  int batch_size = 32;
  int max_tokens = 96;  // longer prompts keep their head and last tokens
  double lr = 3e-3;
  long checkpoint_every = 200;
  std::uint64_t seed = 1;
  bool progress = true;
  long stop_after = 0;  // > 0: stop after this many steps of this run, leaving the state (tests)
};

struct ExpertTrainResult {
  std::vector<float> pretrain_losses, losses;  // per step run in this call
  bool resumed = false;                        // continued from DIR/.train-state
  bool finished = false;                       // final files written
  std::int64_t truncated = 0;                  // training prompts longer than max_tokens
  double seconds = 0;
  std::array<std::int64_t, 2> answer_ids{};    // {yes, no}
  std::optional<Transformer> model;            // the trained in-memory model
};

ExpertTrainResult train_expert(const ExpertTrainOptions& options);

}  // namespace relmoe
