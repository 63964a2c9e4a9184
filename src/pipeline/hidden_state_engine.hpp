#pragma once
// The one way a decoder expert turns pairs into final-layer last-token hidden states, shared by
// `relmoe embed` (which fills the feature store) and the scorer's lanes (which feed the MoE), so
// the two compute the same features: each pair's prompt rendered and encoded and cut to the
// prompt-token limit (models/prompt_encoding.hpp), each distinct prompt computed once, an optional
// hidden-state cache consulted and filled, length-sorted micro-batches cut under the token budget
// (which only batches: it never cuts a prompt), each staged through the expert's stream, a batch
// that runs out of memory split and retried, a non-finite output refused naming its pair.
#include "io/pair.hpp"
#include "models/expert.hpp"
#include "models/prompt_encoding.hpp"
#include "pipeline/bucketing.hpp"
#include "runtime/accelerator.hpp"

#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace relmoe {

class HiddenCache;

// What runs of one expert did, summed over calls.
struct LaneStats {
  std::int64_t pairs = 0;       // pairs given
  std::int64_t computed = 0;    // sequences actually run (after cache hits and duplicates)
  std::int64_t cache_hits = 0;
  std::int64_t truncated = 0;   // prompts cut to the prompt-token limit (text/truncation.hpp)
  std::int64_t oom_splits = 0;  // batches split in two after running out of memory
  PaddingStats padding;
  double tokenize_s = 0, forward_s = 0, busy_s = 0;
  LaneStats& operator+=(const LaneStats& o);
};

struct HiddenStateOptions {
  BatchPlanOptions batching;
  // Prompts are cut to max_prompt_tokens(config, prompt_tokens).
  std::int64_t prompt_tokens = kDefaultPromptTokens;
  std::filesystem::path cache_dir;  // empty: no cache
  // Also the answer-token scores, for an expert that defines answer tokens (the cache keeps
  // hidden states only: not with a cache).
  bool scores = false;
  // Called inside each forward with its rows and tokens: tests inject faults through it (an
  // OutOfMemory thrown here is split and retried as a real one would be).
  std::function<void(std::int64_t rows, std::int64_t tokens)> before_forward;
};

class HiddenStateEngine {
 public:
  // `name` names the expert in errors and in the cache; `dir` is where it was loaded from.
  HiddenStateEngine(std::string name, const std::filesystem::path& dir, Expert expert, HiddenStateOptions options);
  ~HiddenStateEngine();
  HiddenStateEngine(const HiddenStateEngine&) = delete;
  HiddenStateEngine& operator=(const HiddenStateEngine&) = delete;

  // Hidden states [pairs.size(), width] f32 on the CPU in the order of `pairs`, with the
  // answer-token scores [pairs.size()] when asked for and the expert defines answer tokens;
  // adds what the call did to `stats`.
  ExpertOutput run(const std::vector<const Pair*>& pairs, LaneStats& stats);

  const Expert& expert() const { return expert_; }
  std::int64_t width() const { return expert_.model().config().hidden_size; }
  // The limit prompts are actually cut to (the option, lowered to the model's positions).
  std::int64_t prompt_tokens() const { return prompt_limit_; }
  const LaneStream& stream() const { return *stream_; }

 private:
  // Runs the sequences ids[j], j in `batch`, writing row todo[j] of `rows` (and of `scores`).
  void run_batch(const std::vector<std::int64_t>& batch, const std::vector<std::vector<TokenId>>& ids,
                 const std::vector<std::int64_t>& todo, const std::vector<const Pair*>& pairs, float* rows,
                 float* scores, LaneStats& stats);

  std::string name_;
  Expert expert_;
  HiddenStateOptions options_;
  std::int64_t prompt_limit_;
  PromptEncoder prompts_;
  std::unique_ptr<HiddenCache> cache_;
  std::unique_ptr<LaneStream> stream_;
};

}  // namespace relmoe
