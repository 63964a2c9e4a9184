#include "student/student_trainer.hpp"

#include "base/error.hpp"
#include "base/hash.hpp"
#include "base/progress.hpp"
#include "base/rng.hpp"
#include "base/schedule.hpp"
#include "io/json_file.hpp"
#include "io/training_state.hpp"
#include "student/maxsim.hpp"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>

namespace relmoe {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxDevGroups = 1000;

struct Split {
  std::vector<const CandidateGroup*> train, dev;
};

Split split_groups(const std::vector<CandidateGroup>& groups, double dev_fraction) {
  Split s;
  for (const auto& g : groups) {
    const double u = static_cast<double>(hash64(g.market + "\t" + g.query, 17) >> 11) * 0x1.0p-53;
    (u < dev_fraction && s.dev.size() < kMaxDevGroups ? s.dev : s.train).push_back(&g);
  }
  if (s.train.empty()) fail("student train", "no training groups (every group was held out)");
  return s;
}

// Up to `n` of the group's candidates, drawn without replacement.
std::vector<std::size_t> pick(const CandidateGroup& g, int n, Rng& rng) {
  std::vector<std::size_t> idx(g.items.size());
  std::iota(idx.begin(), idx.end(), std::size_t{0});
  const auto take = std::min(idx.size(), static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < take; ++i) std::swap(idx[i], idx[i + rng.below(idx.size() - i)]);
  idx.resize(take);
  return idx;
}

void save_step(const TrainingState& state, const ColbertStudent& student, const torch::optim::Optimizer& optimizer,
               const nlohmann::json& info) {
  state.save("step-" + std::to_string(info["step"].get<long>()), info, [&](const fs::path& step) {
    student.save(step / "student");
    torch::save(optimizer, (step / "optimizer.pt").string());
  });
}

}  // namespace

torch::Tensor distillation_loss(const ColbertStudent& student, const std::vector<const CandidateGroup*>& groups,
                                const std::vector<std::vector<std::size_t>>& picks, const StudentTrainOptions& o) {
  std::vector<std::string> queries, items;
  std::vector<std::int64_t> owner;
  std::vector<float> targets, listwise;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    queries.push_back(groups[g]->query);
    float lo = 1, hi = 0;
    for (auto i : picks[g]) {
      items.push_back(groups[g]->items[i]);
      targets.push_back(groups[g]->targets[i]);
      owner.push_back(static_cast<std::int64_t>(g));
      lo = std::min(lo, targets.back()), hi = std::max(hi, targets.back());
    }
    listwise.push_back(hi - lo > 0.05f ? 1.0f : 0.0f);
  }
  const auto B = static_cast<std::int64_t>(queries.size()), M = static_cast<std::int64_t>(items.size());
  const auto q = student.encode_queries(queries);
  const auto d = student.encode_items(items);
  const auto scores = maxsim(q, d.vectors, d.mask);  // [B, M]
  const auto owner_t = torch::tensor(owner);
  const auto own = owner_t.view({1, M}) == torch::arange(B).view({B, 1});
  const auto t = torch::tensor(targets);
  const auto teacher_logits = torch::logit(t, 1e-3).view({1, M}).expand({B, M});
  const auto neg_inf = -std::numeric_limits<float>::infinity();
  const auto p = torch::softmax(teacher_logits.masked_fill(own.logical_not(), neg_inf), 1);  // 0 off the group
  const auto log_q_own = torch::log_softmax(scores.masked_fill(own.logical_not(), neg_inf), 1)
                             .masked_fill(own.logical_not(), 0.0);
  const auto kl = (p * (torch::log(p.clamp_min(1e-12)) - log_q_own)).sum(1);
  const auto in_batch = -(p * torch::log_softmax(scores, 1)).sum(1);
  const auto w = torch::tensor(listwise);
  const auto list_loss = ((kl + o.in_batch_weight * in_batch) * w).sum() / std::max(1.0f, w.sum().item<float>());
  const auto own_scores = scores.gather(0, owner_t.view({1, M})).squeeze(0);
  const auto prob = student.probability(own_scores).clamp(1e-6, 1 - 1e-6);
  return list_loss + o.pointwise_weight * torch::binary_cross_entropy(prob, t);
}

StudentTrainResult train_student(const std::function<ColbertStudent()>& initial,
                                 const std::vector<CandidateGroup>& groups, const StudentTrainOptions& o) {
  if (o.steps < 1 || o.queries_per_batch < 1 || o.group_size < 2)
    fail("student train", "steps >= 1, queries per batch >= 1 and group size >= 2 are required");
  const auto start_time = std::chrono::steady_clock::now();
  const auto split = split_groups(groups, o.dev_fraction);
  StudentTrainResult r;
  r.train_groups = split.train.size(), r.dev_groups = split.dev.size();
  const TrainingState state(o.out / ".train-state");
  const auto best_dir = state.root() / "best";
  r.resumed = state.exists();
  auto student = r.resumed ? ColbertStudent::load(state.latest() / "student") : initial();
  torch::optim::AdamW optimizer(student.make_trainable(), torch::optim::AdamWOptions(o.lr).weight_decay(0.01));
  long step = 0;
  int bad_evals = 0;
  r.best_dev_loss = std::numeric_limits<double>::infinity();
  if (r.resumed) {
    torch::load(optimizer, (state.latest() / "optimizer.pt").string());
    const auto info = state.info();
    step = info["step"].get<long>();
    r.best_step = info["best_step"].get<long>();
    r.best_dev_loss = info["best_dev_loss"].get<double>();
    bad_evals = info["bad_evals"].get<int>();
  }

  // The dev groups' candidates are drawn once, so every evaluation sees the same batches.
  std::vector<std::vector<std::size_t>> dev_picks;
  Rng dev_rng(o.seed);
  for (const auto* g : split.dev) dev_picks.push_back(pick(*g, o.group_size, dev_rng));
  auto dev_loss = [&] {
    torch::NoGradGuard no_grad;
    double sum = 0;
    std::size_t batches = 0;
    for (std::size_t i = 0; i < split.dev.size(); i += static_cast<std::size_t>(o.queries_per_batch), ++batches) {
      const auto end = std::min(split.dev.size(), i + static_cast<std::size_t>(o.queries_per_batch));
      const std::vector<const CandidateGroup*> gs(split.dev.begin() + static_cast<std::ptrdiff_t>(i),
                                                  split.dev.begin() + static_cast<std::ptrdiff_t>(end));
      const std::vector<std::vector<std::size_t>> ps(dev_picks.begin() + static_cast<std::ptrdiff_t>(i),
                                                     dev_picks.begin() + static_cast<std::ptrdiff_t>(end));
      sum += distillation_loss(student, gs, ps, o).item<double>();
    }
    return sum / static_cast<double>(std::max<std::size_t>(batches, 1));
  };
  auto state_info = [&] {
    return nlohmann::json{{"step", step}, {"best_step", r.best_step}, {"best_dev_loss", r.best_dev_loss},
                          {"bad_evals", bad_evals}};
  };

  std::optional<Progress> progress;
  if (o.progress) {
    progress.emplace("student", static_cast<std::size_t>(o.steps));
    progress->resume_from(static_cast<std::size_t>(step));
  }
  long ran = 0;
  while (step < o.steps) {
    for (auto& group : optimizer.param_groups())
      static_cast<torch::optim::AdamWOptions&>(group.options()).lr(warmup_linear_decay(step, o.steps, o.lr));
    Rng rng(o.seed * 1000003 + static_cast<std::uint64_t>(step));  // per step: a resumed run draws the same
    std::vector<const CandidateGroup*> gs;
    std::vector<std::vector<std::size_t>> ps;
    for (int b = 0; b < o.queries_per_batch; ++b) {
      gs.push_back(split.train[rng.below(split.train.size())]);
      ps.push_back(pick(*gs.back(), o.group_size, rng));
    }
    auto loss = distillation_loss(student, gs, ps, o);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    r.losses.push_back(loss.item<float>());
    ++step, ++ran;
    if (!split.dev.empty() && (step % o.eval_every == 0 || step == o.steps)) {
      const double dev = dev_loss();
      if (progress) progress->status("loss " + std::to_string(r.losses.back()).substr(0, 6) + " dev " + std::to_string(dev).substr(0, 6));
      if (dev < r.best_dev_loss) {
        r.best_dev_loss = dev, r.best_step = step, bad_evals = 0;
        student.save(best_dir);
      } else if (++bad_evals >= o.patience) {
        r.stopped_early = true;
      }
    }
    if (progress) progress->advance();
    if (r.stopped_early) break;
    if (step % o.checkpoint_every == 0 || (o.stop_after > 0 && ran >= o.stop_after)) save_step(state, student, optimizer, state_info());
    if (o.stop_after > 0 && ran >= o.stop_after && step < o.steps) {
      r.steps_done = step;
      r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
      return r;
    }
  }
  if (progress) progress->finish();
  r.steps_done = step;
  auto final_student = fs::exists(best_dir) ? ColbertStudent::load(best_dir) : std::move(student);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
  auto& info = final_student.config().info;
  info["training"] = {{"steps", r.steps_done},         {"best_step", r.best_step},
                      {"best_dev_loss", split.dev.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.best_dev_loss)},
                      {"stopped_early", r.stopped_early}, {"train_groups", r.train_groups},
                      {"dev_groups", r.dev_groups},       {"seconds_this_run", r.seconds},
                      {"group_size", o.group_size},       {"queries_per_batch", o.queries_per_batch},
                      {"lr", o.lr},                       {"in_batch_weight", o.in_batch_weight},
                      {"pointwise_weight", o.pointwise_weight}};
  final_student.save(o.out);
  r.finished = true;
  return r;
}

}  // namespace relmoe
