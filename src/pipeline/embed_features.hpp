#pragma once
// Fills a feature store: every pair through every expert, keeping the final-layer last-token
// hidden state (and the answer-token score when the expert defines one). Resumable: rows already
// committed for an expert are skipped, and each window of rows is committed as it completes.
// Each column records the expert's measured seconds per pair (prompt encoding + forward, or the
// lexical model's features; a column filled before costs were kept gets one window timed), and
// how it was run (the prompt-token limit, the run dtype), which `relmoe score` then follows.
// Decoder experts run through the scorer's own engine (pipeline/hidden_state_engine.hpp).
// The built-in lexical expert is fitted on the training pairs first and saved beside the store
// (STORE/<name>.lexical/, the directory its column records, so `relmoe score` can run it).
#include "io/expert_record.hpp"
#include "io/pair.hpp"
#include "models/lexical_features.hpp"
#include "models/prompt_encoding.hpp"

#include <torch/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace relmoe {

struct EmbedOptions {
  int batch = 16;                                  // sequences per forward
  int window = 512;                                // rows sorted by length and committed together
  std::int64_t prompt_tokens = kDefaultPromptTokens;  // prompts cut to this (recorded per column)
  torch::ScalarType run_dtype = torch::kFloat32;   // expert weights and activations
  torch::ScalarType store_dtype = torch::kFloat16; // hidden states on disk
  torch::Device device = torch::kCPU;
  bool progress = true;
  bool allow_unused_tensors = false;  // load checkpoints holding tensors their config does not use
  // The labelled pairs a built-in lexical expert (dir "builtin:lexical") is fitted on; their rows
  // in the store get cross-fitted features (models/lexical_expert.hpp).
  std::vector<Pair> lexical_train;
  LexicalConfig lexical;
};

// The directory an --expert names to get the built-in lexical expert, fitted here.
inline constexpr const char* kBuiltinLexical = "builtin:lexical";

void embed_features(const std::vector<ExpertRecord>& experts, const std::vector<Pair>& pairs,
                    const std::filesystem::path& store, const EmbedOptions& options);

}  // namespace relmoe
