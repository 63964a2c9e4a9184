// relmoe embed: the feature store of hidden states for every pair and expert.
#include "base/error.hpp"
#include "cli/command.hpp"
#include "cli/pair_input.hpp"
#include "cli/thread_option.hpp"
#include "pipeline/embed_features.hpp"
#include "runtime/compute.hpp"

#include <iostream>

namespace relmoe::cli {
namespace {

struct EmbedArgs {
  std::vector<std::string> experts;
  std::string data, train, out, dtype = "f32", store_dtype = "f16", device = "cpu";
  int batch = 16, threads = 0;
  std::int64_t max_prompt_tokens = kDefaultPromptTokens;
  bool allow_unused = false;
  PairInput input;
};

const Register command{{"embed", "Extract last-token hidden states of every pair for each expert into a feature store",
  [](CLI::App& sub) {
    auto args = std::make_shared<EmbedArgs>();
    sub.add_option("--expert", args->experts, "NAME=DIR of an expert checkpoint, or NAME=builtin:lexical (repeatable)")->required();
    sub.add_option("--data", args->data, "pairs file (.tsv, .csv, .jsonl)")->required();
    sub.add_option("--out", args->out, "feature store directory (resumed when it exists)")->required();
    args->input.add(sub);
    sub.add_option("--train", args->train, "labelled pairs the built-in lexical expert (--expert NAME=builtin:lexical) is fitted on");
    sub.add_option("--dtype", args->dtype, "run dtype: f32, bf16, f16");
    sub.add_option("--store-dtype", args->store_dtype, "stored dtype: f16 or f32");
    sub.add_option("--batch", args->batch, "sequences per forward");
    sub.add_option("--max-prompt-tokens", args->max_prompt_tokens,
                   "cut longer prompts to this many tokens (recorded in the store; `score` follows it)");
    sub.add_option("--device", args->device, "cpu, cuda, cuda:N or auto");
    add_threads_option(sub, args->threads, "libtorch threads");
    sub.add_flag("--allow-unused-tensors", args->allow_unused, "load checkpoints with tensors config.json does not use");
    return [args] {
      set_threads(args->threads);
      EmbedOptions options;
      options.batch = args->batch;
      if (args->max_prompt_tokens < 1) fail("--max-prompt-tokens", "must be at least 1");
      options.prompt_tokens = args->max_prompt_tokens;
      options.allow_unused_tensors = args->allow_unused;
      options.run_dtype = parse_dtype(args->dtype);
      options.store_dtype = parse_dtype(args->store_dtype);
      if (options.store_dtype == torch::kBFloat16) fail("--store-dtype", "must be f16 or f32");
      options.device = parse_device(args->device);
      std::vector<ExpertRecord> experts;
      for (const auto& e : args->experts) experts.push_back(parse_expert_record(e));
      const auto pairs = args->input.read(args->data);
      if (!args->train.empty()) options.lexical_train = args->input.read(args->train);
      embed_features(experts, pairs, args->out, options);
      std::cerr << "embed: " << pairs.size() << " pairs x " << experts.size() << " experts -> " << args->out << "\n";
      return 0;
    };
  }}};

}  // namespace
}  // namespace relmoe::cli
