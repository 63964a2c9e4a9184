#include "expert_training/finetune_trainer.hpp"

#include "base/error.hpp"
#include "base/hash.hpp"
#include "base/progress.hpp"
#include "base/rng.hpp"
#include "base/schedule.hpp"
#include "base/stopwatch.hpp"
#include "eval/auc.hpp"
#include "io/checkpoint_tokenizer.hpp"
#include "io/durable_file.hpp"
#include "io/json_file.hpp"
#include "io/training_state.hpp"
#include "models/prompt_encoding.hpp"
#include "models/transformer.hpp"
#include "runtime/compute.hpp"
#include "text/expert_text_config.hpp"
#include "text/truncation.hpp"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <optional>

namespace relmoe {
namespace {

namespace fs = std::filesystem;
using Sequences = std::vector<std::vector<TokenId>>;

double learning_rate(const FinetuneOptions& o) { return o.lr > 0 ? o.lr : o.full ? 2e-5 : 2e-4; }

void check(const FinetuneOptions& o) {
  if (!fs::exists(o.base)) fail("--base", o.base.string() + " does not exist");
  if (o.epochs <= 0 || !std::isfinite(o.epochs)) fail("--epochs", "must be a positive number");
  if (o.batch_size <= 0) fail("--batch", "must be positive");
  if (o.grad_accum <= 0) fail("--grad-accum", "must be positive");
  if (o.max_tokens < 2 * static_cast<int>(kPromptTailTokens)) fail("--max-tokens", "must be at least 16");
  if (o.max_pairs < 0) fail("--max-pairs", "must be >= 0");
  if (o.dev_pairs < 0) fail("--dev-pairs", "must be >= 0");
  if (o.lr < 0) fail("--lr", "must be positive");
  if (o.eval_every < 0) fail("--eval-every", "must be >= 0");
  if (o.patience < 1) fail("--patience", "must be at least 1");
  if (o.checkpoint_every <= 0) fail("--checkpoint-every", "must be positive");
  if (o.dtype != "f32" && o.dtype != "bf16") fail("--dtype", "must be f32 or bf16, not '" + o.dtype + "'");
  if (o.full && o.dtype != "f32") fail("--dtype", "full fine-tuning keeps f32 weights; bf16 is for LoRA");
  if (o.full && o.merge) fail("--merge", "a full fine-tuning already writes whole weights");
}

// What must match for a saved state to be resumed.
nlohmann::json fingerprint(const FinetuneOptions& o) {
  return {{"base", fs::absolute(o.base).lexically_normal().string()},
          {"data", fs::absolute(o.data).string()},
          {"dev", o.dev.empty() ? "" : fs::absolute(o.dev).string()},
          {"markets", o.markets},
          {"max_pairs", o.max_pairs},
          {"dev_pairs", o.dev_pairs},
          {"full", o.full},
          {"lora", {{"r", o.lora.rank}, {"alpha", o.lora.alpha}, {"rslora", o.lora.rslora}, {"targets", o.lora.targets}}},
          {"epochs", o.epochs},
          {"batch_size", o.batch_size},
          {"grad_accum", o.grad_accum},
          {"lr", learning_rate(o)},
          {"weight_decay", o.weight_decay},
          {"max_tokens", o.max_tokens},
          {"dtype", o.dtype},
          {"seed", o.seed}};
}

// At most `n` pairs (0: all), each market keeping its share, drawn with `seed`; file order kept.
std::vector<Pair> subsample(std::vector<Pair> pairs, long n, std::uint64_t seed) {
  if (n <= 0 || static_cast<std::size_t>(n) >= pairs.size()) return pairs;
  std::map<std::string, std::vector<std::size_t>> by_market;
  for (std::size_t i = 0; i < pairs.size(); ++i) by_market[pairs[i].market].push_back(i);
  std::vector<std::size_t> keep;
  for (auto& [market, rows] : by_market) {
    Rng rng(seed ^ hash64(market));
    rng.shuffle(rows);
    const auto share = static_cast<std::size_t>(std::llround(static_cast<double>(n) * static_cast<double>(rows.size()) /
                                                             static_cast<double>(pairs.size())));
    rows.resize(std::min(rows.size(), std::max<std::size_t>(1, share)));
    keep.insert(keep.end(), rows.begin(), rows.end());
  }
  std::sort(keep.begin(), keep.end());
  std::vector<Pair> out;
  for (auto i : keep) out.push_back(std::move(pairs[i]));
  return out;
}

struct Labelled {
  Sequences prompts;
  std::vector<float> labels;
};

Labelled read_labelled(const FinetuneOptions& o, const fs::path& file, long n, std::uint64_t seed,
                       const PromptEncoder& encoder, std::int64_t& truncated) {
  auto pairs = read_pairs(file, o.columns, o.format);
  if (!o.markets.empty()) {
    std::erase_if(pairs, [&](const Pair& p) { return std::find(o.markets.begin(), o.markets.end(), p.market) == o.markets.end(); });
    if (pairs.empty()) fail(file.string(), "has no pairs of the markets given by --markets");
  }
  pairs = subsample(std::move(pairs), n, seed);
  Labelled out;
  for (const auto& p : pairs) {
    if (!p.label) fail(file.string(), "pair '" + p.id + "' has no label");
    out.labels.push_back(*p.label);
    out.prompts.push_back(encoder.encode(p, truncated));
  }
  if (out.prompts.empty()) fail(file.string(), "no pairs");
  return out;
}

// The model under training: frozen base weights with a trainable adapter, or trainable weights.
struct TrainingModel {
  ModelConfig config;
  Weights weights;
  std::optional<LoraAdapter> adapter;
  std::optional<Transformer> model;

  std::vector<torch::Tensor> parameters() const {
    std::vector<torch::Tensor> out;
    if (adapter) {
      for (const auto& [name, m] : adapter->modules) out.insert(out.end(), {m.a, m.b});
    } else {
      for (const auto& [name, w] : weights) out.push_back(w);
    }
    return out;
  }
  // The trained tensors, for a state or the best-so-far copy.
  Weights trained() const {
    if (!adapter) return weights;
    Weights out;
    for (const auto& [name, m] : adapter->modules) {
      out[name + ".lora_A"] = m.a;
      out[name + ".lora_B"] = m.b;
    }
    return out;
  }
  // Loads tensors saved from trained() into the trained tensors, in place.
  void restore(const fs::path& file) {
    torch::NoGradGuard no_grad;
    const auto saved = Checkpoint::open(file);
    for (auto& [name, t] : trained()) t.copy_(saved.get(name, torch::kFloat32, t.device()).to(t.scalar_type()));
  }
};

TrainingModel make_model(const FinetuneOptions& o) {
  TrainingModel m;
  m.config = load_model_config(o.base);
  const auto dtype = o.full ? torch::kFloat32 : parse_dtype(o.dtype);
  m.weights = load_weights(Checkpoint::open(o.base), m.config, dtype, torch::kCPU);
  if (o.full) {
    for (auto& [name, w] : m.weights) w = w.detach().clone().requires_grad_(true);
  } else {
    auto lora = o.lora;
    if (lora.targets.empty()) lora.targets = lora_target_names(m.config);
    m.adapter = init_lora(lora, m.config, m.weights, o.seed);
    for (auto& [name, mod] : m.adapter->modules) {
      mod.a.requires_grad_(true);
      mod.b.requires_grad_(true);
    }
  }
  m.model.emplace(m.config, m.weights);
  if (m.adapter) m.model->attach_lora(*m.adapter);
  return m;
}

std::array<std::int64_t, 2> answer_ids(const Tokenizer& tokenizer, const FinetuneOptions& o) {
  const AnswerTokens answers;
  const auto ids = resolve_answer_tokens(answers, tokenizer);
  if (!ids)
    fail(o.base.string(), "the answers '" + answers.yes + "' / '" + answers.no + "' are not single tokens of its tokenizer");
  return {ids->yes, ids->no};
}

// Logit(yes) - logit(no) for every prompt of `data`, longest first in batches (no gradients).
double dev_auc(const Transformer& model, const Labelled& data, const std::array<std::int64_t, 2>& answers) {
  torch::InferenceMode guard;
  std::vector<std::size_t> order(data.prompts.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](auto a, auto b) { return data.prompts[a].size() > data.prompts[b].size(); });
  std::vector<double> scores(order.size());
  ForwardOptions fo;
  fo.answer_ids = answers;
  constexpr std::size_t kBatch = 16;
  for (std::size_t start = 0; start < order.size(); start += kBatch) {
    Sequences batch;
    const auto end = std::min(order.size(), start + kBatch);
    for (auto i = start; i < end; ++i) batch.push_back(data.prompts[order[i]]);
    const auto score = model.forward(make_batch(batch, model.device()), fo).score.to(torch::kFloat64).contiguous();
    for (auto i = start; i < end; ++i) scores[order[i]] = score.data_ptr<double>()[i - start];
  }
  return roc_auc(scores, data.labels);
}

// The training examples of optimizer step `step`: one permutation of the pairs per epoch, drawn
// from (seed, epoch), read in order; so a resumed run sees exactly the batches it would have.
class BatchOrder {
 public:
  BatchOrder(std::size_t pairs, std::uint64_t seed) : pairs_(pairs), seed_(seed) {}

  std::vector<std::size_t> micro_batch(long step, int micro, const FinetuneOptions& o) {
    std::vector<std::size_t> out;
    const auto first = (static_cast<std::size_t>(step) * o.grad_accum + micro) * o.batch_size;
    for (std::size_t k = first; k < first + static_cast<std::size_t>(o.batch_size); ++k) {
      const auto epoch = k / pairs_;
      if (epoch != epoch_ || order_.empty()) {
        order_.resize(pairs_);
        std::iota(order_.begin(), order_.end(), 0);
        Rng rng(seed_ * 0x9E3779B97F4A7C15ULL + epoch);
        rng.shuffle(order_);
        epoch_ = epoch;
      }
      out.push_back(order_[k % pairs_]);
    }
    return out;
  }

 private:
  std::size_t pairs_;
  std::uint64_t seed_;
  std::size_t epoch_ = 0;
  std::vector<std::size_t> order_;
};

torch::Tensor micro_batch_loss(const Transformer& model, const Labelled& data, const std::vector<std::size_t>& rows,
                               const std::array<std::int64_t, 2>& answers, bool checkpoint_layers) {
  Sequences ids;
  std::vector<float> y;
  for (auto r : rows) {
    ids.push_back(data.prompts[r]);
    y.push_back(data.labels[r]);
  }
  ForwardOptions fo;
  fo.answer_ids = answers;
  fo.checkpoint_layers = checkpoint_layers;
  const auto score = model.forward(make_batch(ids, model.device()), fo).score;
  return torch::binary_cross_entropy_with_logits(score, torch::tensor(y).to(score.device()));
}

// Where the trainer stands; saved as a step's state.json.
struct Progression {
  long step = 0;
  long best_step = -1;
  double best_auc = -1;
  int bad_evals = 0;
  bool stopped_early = false;
  std::vector<std::pair<long, double>> dev_aucs;

  nlohmann::json to_json(const nlohmann::json& options) const {
    return {{"step", step},           {"best_step", best_step}, {"best_auc", best_auc}, {"bad_evals", bad_evals},
            {"stopped_early", stopped_early}, {"dev_aucs", dev_aucs},     {"options", options}};
  }
  static Progression from_json(const nlohmann::json& j) {
    Progression p;
    p.step = j.at("step").get<long>();
    p.best_step = j.at("best_step").get<long>();
    p.best_auc = j.at("best_auc").get<double>();
    p.bad_evals = j.at("bad_evals").get<int>();
    p.stopped_early = j.at("stopped_early").get<bool>();
    p.dev_aucs = j.at("dev_aucs").get<std::vector<std::pair<long, double>>>();
    return p;
  }
};

nlohmann::json manifest(const FinetuneOptions& o, const FinetuneResult& r, bool standalone) {
  nlohmann::json j = {{"prompt_template", std::string(PromptTemplate::kDefault)},
                      {"answer_tokens", {{"yes", AnswerTokens().yes}, {"no", AnswerTokens().no}}},
                      {"add_special_tokens", true}};
  if (!standalone) {
    j["base"] = fs::absolute(o.base).lexically_normal().string();
    j["adapter"] = "adapter";
  }
  auto provenance = fingerprint(o);
  provenance["method"] = o.full ? "full fine-tuning" : o.lora.rslora ? "rsLoRA" : "LoRA";
  provenance["train_pairs"] = r.train_pairs;
  provenance["truncated_prompts"] = r.truncated;
  provenance["best_step"] = r.best_step;
  provenance["dev_aucs"] = r.dev_aucs;
  provenance["stopped_early"] = r.stopped_early;
  j["trained_by"] = provenance;
  return j;
}

// OUT: relmoe.json (+ adapter/), or a standalone checkpoint; relmoe.json comes last, so a
// directory holding it is complete.
void publish(const FinetuneOptions& o, TrainingModel& m, const FinetuneResult& r) {
  StagingDirectory staging(o.out);
  const bool standalone = o.full || o.merge;
  if (m.adapter) save_lora(staging.path() / "adapter", *m.adapter, fs::absolute(o.base).lexically_normal().string());
  if (standalone) {
    torch::NoGradGuard no_grad;
    Weights weights;
    for (const auto& [name, w] : m.weights) weights[name] = w.detach();
    if (m.adapter) merge_lora(weights, *m.adapter, "the trained adapter");
    save_model(staging.path(), m.config, weights);
    write_checkpoint_tokenizer(o.base, staging.path());
  }
  write_json_file(staging.path() / "relmoe.json", manifest(o, r, standalone));
  staging.publish_into("relmoe.json");
}

}  // namespace

FinetuneResult finetune_expert(const FinetuneOptions& o) {
  check(o);
  const auto start = std::chrono::steady_clock::now();
  FinetuneResult r;
  const auto options = fingerprint(o);
  const auto tokenizer = find_checkpoint_tokenizer(o.base);
  if (!tokenizer) fail(o.base.string(), "has no tokenizer (tokenizer.json, tokenizer.model or GGUF metadata)");
  const auto answers = answer_ids(*tokenizer, o);
  auto m = make_model(o);
  const PromptEncoder encoder(*tokenizer, PromptTemplate(), static_cast<std::size_t>(max_prompt_tokens(m.config, o.max_tokens)),
                              "in fine-tuning");
  const auto train = read_labelled(o, o.data, o.max_pairs, o.seed, encoder, r.truncated);
  std::int64_t dev_truncated = 0;
  const auto dev = o.dev.empty() ? Labelled{} : read_labelled(o, o.dev, o.dev_pairs, o.seed + 1, encoder, dev_truncated);
  r.train_pairs = static_cast<std::int64_t>(train.prompts.size());
  if (r.truncated > 0) spdlog::warn("{} of {} training prompts exceed {} tokens and were cut", r.truncated, r.train_pairs, o.max_tokens);
  const auto per_step = static_cast<double>(o.batch_size) * o.grad_accum;
  r.steps = std::max(1L, static_cast<long>(std::ceil(o.epochs * static_cast<double>(train.prompts.size()) / per_step)));
  const long eval_every = o.eval_every > 0 ? o.eval_every : std::max(1L, r.steps / 4);

  const TrainingState state(o.out / ".train-state");
  if (!state.exists()) {
    if (fs::exists(o.out / "relmoe.json"))
      fail("--out", o.out.string() + " already holds an expert; give a new directory or delete it");
    fs::remove_all(state.root());  // what a run killed before its first save left
  }
  state.require_options(options);
  fs::create_directories(state.root());
  const auto best_file = state.root() / "best.safetensors";
  torch::optim::AdamW optimizer(m.parameters(), torch::optim::AdamWOptions(learning_rate(o)).weight_decay(o.weight_decay));
  Progression p;
  if (state.exists()) {
    r.resumed = true;
    p = Progression::from_json(state.info());
    m.restore(state.latest() / "trained.safetensors");
    torch::load(optimizer, (state.latest() / "optimizer.pt").string());
    spdlog::info("fine-tuning: resumed at step {} of {}", p.step, r.steps);
  }
  auto save_state = [&] {
    state.save("step-" + std::to_string(p.step), p.to_json(options), [&](const fs::path& dir) {
      save_tensors(dir / "trained.safetensors", m.trained());
      torch::save(optimizer, (dir / "optimizer.pt").string());
    });
  };
  // Scores dev, keeps the best weights so far and counts evaluations without progress.
  auto evaluate = [&] {
    if (dev.prompts.empty()) return;
    const double auc = dev_auc(*m.model, dev, answers);
    p.dev_aucs.emplace_back(p.step, auc);
    spdlog::info("fine-tuning: step {} of {}: dev AUC {:.4f}{}", p.step, r.steps, auc, p.step == 0 ? " (the base model)" : "");
    if (auc > p.best_auc) {
      p.best_auc = auc, p.best_step = p.step, p.bad_evals = 0;
      save_tensors(best_file, m.trained());
    } else if (++p.bad_evals >= o.patience && p.step < r.steps) {
      p.stopped_early = true;
    }
    save_state();
  };
  if (!r.resumed) evaluate();

  std::optional<Progress> bar;
  if (o.progress) {
    bar.emplace("fine-tune", static_cast<std::size_t>(r.steps));
    bar->resume_from(static_cast<std::size_t>(p.step));
  }
  BatchOrder order(train.prompts.size(), o.seed);
  long ran = 0;
  double smooth = 0;
  while (p.step < r.steps && !p.stopped_early) {
    if (o.stop_after > 0 && ran == o.stop_after) return r;
    for (auto& group : optimizer.param_groups())
      static_cast<torch::optim::AdamWOptions&>(group.options()).lr(warmup_linear_decay(p.step, r.steps, learning_rate(o)));
    optimizer.zero_grad();
    double loss_sum = 0;
    for (int micro = 0; micro < o.grad_accum; ++micro) {
      auto loss = micro_batch_loss(*m.model, train, order.micro_batch(p.step, micro, o), answers, o.checkpoint_layers) /
                  o.grad_accum;
      loss.backward();
      loss_sum += loss.item<double>();
    }
    torch::nn::utils::clip_grad_norm_(m.parameters(), 1.0);
    optimizer.step();
    r.losses.push_back(static_cast<float>(loss_sum));
    smooth = ran == 0 ? loss_sum : 0.9 * smooth + 0.1 * loss_sum;
    ++p.step, ++ran;
    if (bar) {
      bar->status(fmt::format("loss {:.4f}{}", smooth,
                              p.dev_aucs.empty() ? "" : fmt::format(" dev_auc {:.4f}", p.dev_aucs.back().second)));
      bar->set(static_cast<std::size_t>(p.step));
    }
    if (p.step % eval_every == 0 || p.step == r.steps) evaluate();
    else if (p.step % o.checkpoint_every == 0) save_state();
  }
  if (bar) bar->finish();
  if (fs::exists(best_file)) m.restore(best_file);
  r.best_step = p.best_step;
  r.best_dev_auc = p.best_auc;
  r.dev_aucs = p.dev_aucs;
  r.stopped_early = p.stopped_early;
  publish(o, m, r);
  fs::remove_all(state.root());
  r.finished = true;
  r.seconds = seconds_since(start);
  return r;
}

}  // namespace relmoe
