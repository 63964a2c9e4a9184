#pragma once
// Fine-tuning a pretrained checkpoint (a Hugging Face directory or a GGUF file) into a relevance
// expert, as the paper fine-tunes its experts: LoRA (or rsLoRA) by default, every weight as an
// option. The objective is the one a from-scratch expert learns and the runtime scores: the
// binary cross-entropy of logit(" yes") - logit(" no") at the prompt's last token, read from the
// model's own LM head. That head needs no new parameters, starts from what the pretrained
// (instruct) model already answers, and keeps the expert loadable by anything that loads a
// causal LM with a PEFT adapter; the fused MoE then reads the same model's last hidden state.
//
// AdamW with warm-up and linear decay, gradient accumulation, optional gradient checkpointing,
// f32 or bf16 compute. Early stopping on the AUC of a dev subsample (its step-0 value is the
// base model's zero-shot AUC). Resumable: the state lives under OUT/.train-state.
//
// The result, OUT/: relmoe.json naming the base and the adapter, and adapter/ in PEFT's format
// (adapter_config.json + adapter_model.safetensors) that HF PEFT loads too. With `merge` (or
// `full`), OUT is instead a standalone checkpoint: config.json, model.safetensors and the
// base's tokenizer (adapter/ is still written for a LoRA run).
#include "io/pair_reader.hpp"
#include "models/lora.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace relmoe {

struct FinetuneOptions {
  std::filesystem::path base;  // a checkpoint directory or a .gguf file
  std::filesystem::path data;  // labelled training pairs
  std::filesystem::path dev;   // labelled dev pairs for early stopping (optional)
  ColumnMapping columns;
  PairFormat format = PairFormat::Auto;
  std::vector<std::string> markets;  // only these markets' pairs (empty: all)
  std::filesystem::path out;
  long max_pairs = 0;     // a seeded subsample of at most N training pairs, each market its share (0: all)
  long dev_pairs = 1000;  // the same for dev
  bool full = false;      // every weight instead of a LoRA adapter (f32)
  LoraConfig lora{16, 32, false, {}};  // empty targets: every projection of the family
  double epochs = 1;
  int batch_size = 8;
  int grad_accum = 2;  // micro-batches per optimizer step
  double lr = 0;       // 0: 2e-4 for LoRA, 2e-5 for full fine-tuning
  double weight_decay = 0.0;
  int max_tokens = 128;     // longer prompts keep their head and last tokens
  std::string dtype = "f32";  // f32 | bf16 (LoRA only)
  bool checkpoint_layers = false;
  long eval_every = 0;  // steps between dev evaluations (0: four per run)
  int patience = 2;     // evaluations without a better dev AUC before stopping
  long checkpoint_every = 20;
  bool merge = false;
  std::uint64_t seed = 1;
  bool progress = true;
  long stop_after = 0;  // > 0: stop after this many optimizer steps of this run (tests)
};

struct FinetuneResult {
  bool resumed = false, finished = false, stopped_early = false;
  long steps = 0;           // planned optimizer steps
  long best_step = -1;      // the step whose weights were kept (-1 without dev)
  double best_dev_auc = 0;  // NaN-free only with dev
  std::vector<std::pair<long, double>> dev_aucs;  // (step, AUC), step 0 = the base model
  std::vector<float> losses;                      // per optimizer step run in this call
  std::int64_t train_pairs = 0, truncated = 0;
  double seconds = 0;
};

FinetuneResult finetune_expert(const FinetuneOptions& options);

}  // namespace relmoe
