#include "flow/student_stage.hpp"

#include "base/error.hpp"
#include "eval/student_comparison.hpp"
#include "expert_training/spm_train.hpp"
#include "flow/ablation.hpp"
#include "io/json_file.hpp"
#include "moe/model_eval.hpp"
#include "student/pair_scoring.hpp"
#include "student/student_trainer.hpp"

#include <spdlog/spdlog.h>

#include <cmath>

namespace relmoe {

namespace fs = std::filesystem;

namespace {

// The variant's probability per training pair id, from the feature store.
std::unordered_map<std::string, double> teacher_from_store(const fs::path& model_dir, const FeatureStore& store,
                                                           const std::vector<Pair>& train) {
  const auto in = model_eval_input(model_dir, store, train, "train data");
  std::unordered_map<std::string, double> out;
  for (std::size_t i = 0; i < train.size(); ++i) out[train[i].id] = 1 / (1 + std::exp(-in.scores[i]));
  return out;
}

}  // namespace

nlohmann::json run_student_stage(const RunLayout& layout, const FeatureStore& store, const std::vector<Pair>& train,
                                 const std::vector<Pair>& test, const nlohmann::json& comparisons,
                                 const StudentStageOptions& o) {
  const auto root = layout.root / "students";
  const auto tokenizer = root / "tokenizer" / "tokenizer.model";
  if (!fs::exists(tokenizer)) {
    std::vector<std::string> sentences;
    for (const auto& p : train) sentences.push_back(p.query), sentences.push_back(p.item);
    train_sentencepiece(sentences, {"unigram", o.tokenizer_vocab}, {"[PAD]", "[CLS]", "[SEP]", "[MASK]", "[Q]", "[D]"},
                        tokenizer);
  }
  struct Teacher {
    std::string name, variant;
  };
  std::vector<Teacher> teachers{{"moe-taught", "moe:hard:concat"}};
  if (comparisons.contains("best_llm_single")) {
    // single:<e> is the expert's own score, which has no model; its probe is the trained teacher.
    auto variant = comparisons["best_llm_single"].get<std::string>();
    if (variant.rfind("single:", 0) == 0) variant = "probe:" + variant.substr(7);
    teachers.push_back({"single-expert-taught", variant});
  }
  teachers.push_back({"label-trained", ""});

  std::vector<NamedScores> scored;
  for (const auto& t : teachers) {
    const auto dir = root / t.name;
    if (!fs::exists(dir / "student.json")) {
      std::unordered_map<std::string, double> scores;
      if (!t.variant.empty()) scores = teacher_from_store(layout.model(variant_dir_name(t.variant)), store, train);
      const auto groups = group_candidates(train, t.variant.empty() ? nullptr : &scores, layout.train().string());
      StudentConfig config;
      config.info["teacher"] = t.variant.empty() ? "labels" : t.variant;
      StudentTrainOptions options;
      options.out = dir;
      options.steps = o.steps;
      options.lr = 1e-3;
      options.eval_every = 50;
      spdlog::info("flow: student {} ({} steps)", t.name, o.steps);
      train_student([&] { return ColbertStudent::from_scratch("bert", "tiny", tokenizer, config, 1); }, groups, options);
    }
    scored.push_back({t.name + " (" + (t.variant.empty() ? "labels" : t.variant) + ")",
                      student_scores(ColbertStudent::load(dir), test, 128, false)});
  }
  auto result = compare_students(test, scored, o.ks);
  write_json_file(root / "students.json", result);
  write_text_file(root / "students.md", student_table_markdown(result));
  return result;
}

}  // namespace relmoe
