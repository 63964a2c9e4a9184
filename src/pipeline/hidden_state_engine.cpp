#include "pipeline/hidden_state_engine.hpp"

#include "base/error.hpp"
#include "base/stopwatch.hpp"
#include "io/expert_record.hpp"
#include "io/hidden_cache.hpp"
#include "runtime/compute.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstring>
#include <unordered_map>

namespace relmoe {

namespace {

// The limit prompts are cut to, checked before anything is encoded with it.
std::int64_t prompt_limit(const Expert& expert, const HiddenStateOptions& options, const std::string& name) {
  if (options.prompt_tokens < 1) fail("expert '" + name + "'", "the prompt-token limit must be at least 1");
  return max_prompt_tokens(expert.model().config(), options.prompt_tokens);
}
}  // namespace

LaneStats& LaneStats::operator+=(const LaneStats& o) {
  pairs += o.pairs;
  computed += o.computed;
  cache_hits += o.cache_hits;
  truncated += o.truncated;
  oom_splits += o.oom_splits;
  padding += o.padding;
  tokenize_s += o.tokenize_s;
  forward_s += o.forward_s;
  busy_s += o.busy_s;
  return *this;
}

HiddenStateEngine::HiddenStateEngine(std::string name, const std::filesystem::path& dir, Expert expert,
                                     HiddenStateOptions options)
    : name_(std::move(name)),
      expert_(std::move(expert)),
      options_(std::move(options)),
      prompt_limit_(prompt_limit(expert_, options_, name_)),
      prompts_(PromptEncoder::of(expert_, name_, static_cast<std::size_t>(prompt_limit_))) {
  check_batch_plan(options_.batching);
  if (options_.scores && !options_.cache_dir.empty())
    fail("expert '" + name_ + "'", "the hidden-state cache keeps no answer-token scores");
  if (!options_.cache_dir.empty()) {
    // The same prompt cut elsewhere or run in another dtype is another hidden state.
    cache_ = std::make_unique<HiddenCache>(options_.cache_dir, name_, dir, width(),
                                           how_run(dtype_name(expert_.model().dtype()), prompt_limit_));
  }
  stream_ = make_lane_stream(expert_.model().device());
}

HiddenStateEngine::~HiddenStateEngine() = default;

ExpertOutput HiddenStateEngine::run(const std::vector<const Pair*>& pairs, LaneStats& stats) {
  const auto start = SteadyClock::now();
  const auto n = static_cast<std::int64_t>(pairs.size());
  const auto w = width();
  ExpertOutput out{torch::empty({n, w}, torch::kFloat32), {}};
  if (options_.scores && expert_.answer_ids()) out.score = torch::empty({n}, torch::kFloat32);
  float* rows = out.last_hidden.data_ptr<float>();
  float* scores = out.score.defined() ? out.score.data_ptr<float>() : nullptr;
  // Each distinct prompt is computed once: `source[i]` is the position whose row pair i copies.
  std::vector<std::int64_t> source(pairs.size());
  std::vector<std::int64_t> todo;
  std::vector<std::vector<TokenId>> ids;
  std::vector<HiddenCache::Key> keys;
  std::unordered_map<std::string, std::int64_t> first;
  auto t = SteadyClock::now();
  for (std::int64_t i = 0; i < n; ++i) {
    std::string prompt = prompts_.render(*pairs[i]);
    auto [it, fresh] = first.emplace(prompt, i);
    source[i] = it->second;
    if (!fresh) continue;
    if (cache_) {
      const auto key = HiddenCache::key_of(prompt);
      if (cache_->lookup(key, rows + i * w)) {
        ++stats.cache_hits;
        continue;
      }
      keys.push_back(key);
    }
    todo.push_back(i);
    ids.push_back(prompts_.encode(*pairs[i], prompt, stats.truncated));
  }
  stats.tokenize_s += seconds_since(t);

  std::vector<std::int64_t> lengths;
  for (const auto& s : ids) lengths.push_back(static_cast<std::int64_t>(s.size()));
  const auto batches = plan_batches(lengths, options_.batching);
  stats.padding += padding_of(batches, lengths);
  for (const auto& batch : batches) run_batch(batch, ids, todo, pairs, rows, scores, stats);
  if (cache_)
    for (std::size_t j = 0; j < todo.size(); ++j) cache_->insert(keys[j], rows + todo[j] * w);
  for (std::int64_t i = 0; i < n; ++i) {
    if (source[i] == i) continue;
    std::memcpy(rows + i * w, rows + source[i] * w, sizeof(float) * w);
    if (scores) scores[i] = scores[source[i]];
  }
  stats.pairs += n;
  stats.computed += static_cast<std::int64_t>(todo.size());
  stats.busy_s += seconds_since(start);
  return out;
}

void HiddenStateEngine::run_batch(const std::vector<std::int64_t>& batch, const std::vector<std::vector<TokenId>>& ids,
                                  const std::vector<std::int64_t>& todo, const std::vector<const Pair*>& pairs,
                                  float* rows, float* scores, LaneStats& stats) {
  const auto w = width();
  auto forward = [&](std::int64_t begin, std::int64_t end) {
    std::vector<std::vector<TokenId>> seqs;
    for (auto b = begin; b < end; ++b) seqs.push_back(ids[batch[b]]);
    const auto host = make_batch(seqs, torch::kCPU);
    const TokenBatch staged{stream_->upload(host.ids), stream_->upload(host.mask)};
    ExpertOutput output;
    stats.forward_s += stream_->run([&] {
      if (options_.before_forward) options_.before_forward(end - begin, host.ids.size(1));
      output = expert_.hidden(staged);
    });
    if (const auto bad = first_non_finite_row(output); bad >= 0)
      fail("pair '" + pairs[todo[batch[begin + bad]]]->id + "'",
           "expert '" + name_ + "' produced a non-finite hidden state or score");
    const auto hidden = stream_->download(output.last_hidden);
    const auto score = scores ? stream_->download(output.score) : torch::Tensor();
    for (auto b = begin; b < end; ++b) {
      const auto row = todo[batch[b]];
      std::memcpy(rows + row * w, hidden[b - begin].data_ptr<float>(), sizeof(float) * w);
      if (scores) scores[row] = score.data_ptr<float>()[b - begin];
    }
  };
  auto on_split = [&](std::int64_t n) {
    ++stats.oom_splits;
    spdlog::warn("expert '{}': a batch of {} prompts ran out of memory on {}; running it in halves", name_, n,
                 stream_->device().str());
  };
  try {
    run_splitting_on_oom(static_cast<std::int64_t>(batch.size()), forward, on_split);
  } catch (const std::exception& e) {
    if (!is_out_of_memory(e)) throw;
    std::int64_t longest = 0;
    for (auto j : batch) longest = std::max<std::int64_t>(longest, static_cast<std::int64_t>(ids[j].size()));
    fail("expert '" + name_ + "'", "ran out of memory on " + stream_->device().str() + " with a single prompt (" +
                                       std::to_string(longest) + " tokens at most): " + one_line(e.what()));
  }
}

}  // namespace relmoe
