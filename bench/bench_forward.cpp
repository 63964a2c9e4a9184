// Forward throughput on a randomly initialised Qwen2-0.5B-shaped model (never committed):
// written as safetensors to a temp dir and loaded through the normal mmap path, then
// batch x tokens forward passes. Prints tokens/s, achieved GFLOP/s against a large GEMM in the
// run dtype on the same device, measured in the same run, and peak resident memory against the
// weight bytes. Each pass is timed through a lane's stream (runtime/accelerator.hpp): CUDA
// events on a GPU, the wall clock on the CPU.
//
//   bench_forward [--threads 2] [--batch 16] [--tokens 64] [--iters 3] [--layers 24]
//                 [--dtype f32|bf16|f16] [--device cpu|cuda:N] [--model DIR] [--gemm N] [--json]
// --model runs a checkpoint already written (e.g. by scripts/gpu_bench.py, the same files HF
// transformers times) instead of writing a random one. Token ids are (7919 t + 131 b + 1) mod
// vocab, the formula the GPU script gives HF too. --json ends with one JSON line of the figures.
//
//   bench_forward --model DIR --pairs FILE [--limit N] [--token-budget 4096] [--write-ids FILE] ...
// runs real prompts instead: the first N pairs of FILE through the checkpoint's tokenizer and the
// default prompt template, batched as relmoe batches them (length-sorted under the token budget,
// pipeline/hidden_state_engine.hpp, the engine of `relmoe embed` and `relmoe score`), timed end
// to end after a warm-up on the first 64; --write-ids writes each pair's ids as JSON lines in
// input order, so that HF transformers runs exactly the same tokens.
// Environment: RELMOE_BENCH_THREADS overrides the default thread count; OPENBLAS_CORETYPE /
// RELMOE_BLAS_CORE choose the BLAS kernels as for the relmoe binary (runtime/process_setup.hpp).
#include "base/error.hpp"
#include "bench_support.hpp"
#include "io/pair_reader.hpp"
#include "models/prompt_encoding.hpp"
#include "models/transformer.hpp"
#include "pipeline/hidden_state_engine.hpp"
#include "runtime/accelerator.hpp"
#include "runtime/compute.hpp"
#include "runtime/process_setup.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <unistd.h>

namespace {

using relmoe::bench::arg;
using relmoe::bench::gemm_gflops;
using relmoe::bench::Clock;
using relmoe::bench::seconds_since;
using relmoe::bench::text_arg;

// A field of /proc/self/status in bytes (e.g. VmHWM, VmRSS).
double status_bytes(const std::string& field) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) * 1024;
  return 0;
}

// Resets VmHWM to the current RSS (Linux >= 4.0), so the peak reported covers loading and
// running the model, not generating it.
void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }

// Token ids both this benchmark and the GPU script's HF run use: no padding, no randomness.
torch::Tensor fixed_ids(std::int64_t batch, std::int64_t tokens, std::int64_t vocab) {
  auto b = torch::arange(batch, torch::kInt64).unsqueeze(1), t = torch::arange(tokens, torch::kInt64).unsqueeze(0);
  return (t * 7919 + b * 131 + 1).remainder(vocab);
}

relmoe::ModelConfig qwen2_half_b(std::int64_t layers) {
  return relmoe::parse_model_config({{"model_type", "qwen2"},
                                     {"vocab_size", 151936},
                                     {"hidden_size", 896},
                                     {"intermediate_size", 4864},
                                     {"num_hidden_layers", layers},
                                     {"num_attention_heads", 14},
                                     {"num_key_value_heads", 2},
                                     {"rope_theta", 1000000.0},
                                     {"rms_norm_eps", 1e-6},
                                     {"tie_word_embeddings", true}},
                                    "bench config");
}

// FLOPs the result actually needs: every layer's K/V projections for all tokens; Q, O and
// the MLP for all tokens except in the last layer (last token only); causal attention.
double needed_flops(const relmoe::ModelConfig& c, double batch, double tokens) {
  const double h = c.hidden_size, hd = c.head_dim, heads = c.num_attention_heads;
  const double qo = 2 * h * heads * hd, kv = 2 * h * c.num_key_value_heads * hd;
  const double mlp = 3 * h * c.intermediate_size;
  const double layers = c.num_hidden_layers;
  double per_sequence = layers * kv * tokens + (layers - 1) * (qo + mlp) * tokens + (qo + mlp);
  per_sequence += (layers - 1) * heads * hd * tokens * (tokens + 1) + 2 * heads * hd * tokens;
  return 2 * per_sequence * batch;
}

std::vector<relmoe::Pair> first_pairs(const std::filesystem::path& path, int limit) {
  std::vector<relmoe::Pair> pairs;
  relmoe::PairStream reader(path);
  for (relmoe::Pair p; (limit <= 0 || static_cast<int>(pairs.size()) < limit) && reader.next(p);) pairs.push_back(p);
  return pairs;
}

void write_ids(const std::filesystem::path& file, const relmoe::Expert& expert, std::int64_t limit,
               const std::vector<relmoe::Pair>& pairs) {
  const auto encoder = relmoe::PromptEncoder::of(expert, "bench", static_cast<std::size_t>(limit));
  std::ofstream out(file);
  std::int64_t truncated = 0;
  for (const auto& p : pairs) out << nlohmann::json{{"id", p.id}, {"ids", encoder.encode(p, truncated)}}.dump() << "\n";
  if (!out.flush()) relmoe::fail(file.string(), "cannot write the token ids");
}

// The --pairs mode: real prompts through the engine `relmoe embed` and `relmoe score` use.
nlohmann::json run_pairs(const std::filesystem::path& dir, int argc, char** argv, torch::ScalarType dtype,
                         torch::Device device) {
  const auto pairs = first_pairs(text_arg(argc, argv, "--pairs", ""), arg(argc, argv, "--limit", 0));
  relmoe::ExpertOptions eo;
  eo.dtype = dtype;
  eo.device = device;
  auto start = Clock::now();
  relmoe::HiddenStateOptions ho;
  ho.batching.token_budget = arg(argc, argv, "--token-budget", 4096);
  relmoe::HiddenStateEngine engine("bench", dir, relmoe::Expert::load(dir, eo), ho);
  std::cout << "loaded in " << seconds_since(start) << " s\n";
  if (const auto ids = text_arg(argc, argv, "--write-ids", ""); !ids.empty())
    write_ids(ids, engine.expert(), engine.prompt_tokens(), pairs);
  std::vector<const relmoe::Pair*> all;
  for (const auto& p : pairs) all.push_back(&p);
  relmoe::LaneStats warm, stats;
  engine.run({all.begin(), all.begin() + std::min<std::size_t>(64, all.size())}, warm);
  start = Clock::now();
  engine.run(all, stats);
  const double elapsed = seconds_since(start);
  const double tokens_per_s = static_cast<double>(stats.padding.real) / elapsed;
  std::cout << "pairs: " << pairs.size() << " prompts, " << stats.padding.real << " tokens, " << stats.padding.batches
            << " batches, padding " << 100 * stats.padding.fraction() << "%: " << pairs.size() / elapsed
            << " pairs/s, " << tokens_per_s << " tokens/s\n";
  return {{"pairs", pairs.size()},
          {"computed", stats.computed},
          {"tokens", stats.padding.real},
          {"padded_tokens", stats.padding.padded},
          {"batches", stats.padding.batches},
          {"token_budget", ho.batching.token_budget},
          {"seconds", elapsed},
          {"tokenize_s", stats.tokenize_s},
          {"pairs_per_s", pairs.size() / elapsed},
          {"tokens_per_s", tokens_per_s}};
}

}  // namespace

int main(int argc, char** argv) {
  relmoe::configure_process(argc, argv);
  const char* env_threads = std::getenv("RELMOE_BENCH_THREADS");
  const int threads = arg(argc, argv, "--threads", env_threads ? std::atoi(env_threads) : 2);
  const int batch = arg(argc, argv, "--batch", 16), tokens = arg(argc, argv, "--tokens", 64);
  const int iters = arg(argc, argv, "--iters", 3), layers = arg(argc, argv, "--layers", 24);
  const auto dtype_name = text_arg(argc, argv, "--dtype", "f32");
  const auto dtype = relmoe::parse_dtype(dtype_name);
  const auto device = relmoe::parse_device(text_arg(argc, argv, "--device", "cpu"));
  const std::filesystem::path given = text_arg(argc, argv, "--model", "");
  const bool as_json = std::find(argv + 1, argv + argc, std::string("--json")) != argv + argc;
  relmoe::set_threads(threads);
  auto stream = relmoe::make_lane_stream(device);
  const char* core = std::getenv("OPENBLAS_CORETYPE");
  std::cout << "libtorch " << relmoe::build_info().torch_version << ", " << device.str() << ", " << dtype_name
            << ", threads " << threads << ", OPENBLAS_CORETYPE " << (core ? core : "(unset)") << ", batch "
            << batch << " x " << tokens << " tokens\n";

  // --gemm: the anchor's size (a CPU bf16 mm of libtorch 2.x without AVX512-BF16 is a scalar loop:
  // the GPU script's CPU dry run keeps it small).
  const double gemm = gemm_gflops(*stream, dtype, arg(argc, argv, "--gemm", device.is_cuda() ? 8192 : 2048), 10);
  std::cout << "GEMM " << dtype_name << " (torch::mm): " << gemm << " GFLOP/s\n";

  if (!text_arg(argc, argv, "--pairs", "").empty()) {
    if (given.empty()) relmoe::fail("bench_forward", "--pairs needs --model DIR (a checkpoint with its tokenizer)");
    auto figures = run_pairs(given, argc, argv, dtype, device);
    figures.update({{"libtorch", relmoe::build_info().torch_version}, {"device", device.str()}, {"dtype", dtype_name},
                    {"gemm_gflops", gemm}});
    if (as_json) std::cout << figures.dump() << "\n";
    return 0;
  }

  auto dir = given;
  auto start = Clock::now();
  if (given.empty()) {
    const auto config = qwen2_half_b(layers);
    dir = std::filesystem::temp_directory_path() / ("relmoe_bench_forward_" + std::to_string(::getpid()));
    const auto& family = relmoe::family_of(config);
    std::uint64_t seed = 1;
    relmoe::save_model(dir, config, [&](const relmoe::TensorSpec& spec) {
      return relmoe::random_tensor(spec, family, torch::kFloat32, torch::kCPU, seed++);
    });
    std::cout << "wrote random model to " << dir << " in " << seconds_since(start) << " s\n";
  }

  reset_peak_rss();
  const double rss_before = status_bytes("VmRSS");
  nlohmann::json figures;
  {
    torch::InferenceMode guard;
    start = Clock::now();
    auto model = relmoe::Transformer::load(dir, dtype, device);
    std::cout << "loaded in " << seconds_since(start) << " s\n";
    const auto& config = model.config();
    double weight_bytes = 0;
    for (const auto& [name, t] : model.weights()) weight_bytes += t.numel() * t.element_size();

    const auto ids = fixed_ids(batch, tokens, config.vocab_size);
    const relmoe::TokenBatch input{stream->upload(ids), stream->upload(torch::ones({batch, tokens}, torch::kBool))};
    const relmoe::ForwardOptions options;
    stream->run([&] { model.forward(input, options); });  // warm-up: pages the weights in
    const double elapsed = stream->run([&] {
      for (int i = 0; i < iters; ++i) model.forward(input, options);
    });
    const double tokens_per_s = double(batch) * tokens * iters / elapsed;
    const double gflops = needed_flops(config, batch, tokens) * iters / elapsed / 1e9;
    const double peak = status_bytes("VmHWM");
    std::cout << "forward: " << tokens_per_s << " tokens/s, " << gflops << " GFLOP/s, " << gflops / gemm
              << " of GEMM\n"
              << "peak RSS " << peak / 1e9 << " GB (" << rss_before / 1e9 << " GB before loading), weights "
              << weight_bytes / 1e9 << " GB, ratio " << peak / weight_bytes << "\n";
    figures = {{"libtorch", relmoe::build_info().torch_version},
               {"device", device.str()},
               {"dtype", dtype_name},
               {"threads", threads},
               {"batch", batch},
               {"tokens", tokens},
               {"tokens_per_s", tokens_per_s},
               {"pairs_per_s", double(batch) * iters / elapsed},
               {"gflops", gflops},
               {"gemm_gflops", gemm},
               {"share_of_gemm", gflops / gemm},
               {"peak_rss_bytes", peak},
               {"weight_bytes", weight_bytes}};
  }
  if (given.empty()) std::filesystem::remove_all(dir);
  if (as_json) std::cout << figures.dump() << "\n";
  return 0;
}
