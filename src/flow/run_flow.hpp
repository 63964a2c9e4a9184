#pragma once
// The one staged flow behind `relmoe quickstart` (synthetic data) and `relmoe experiment` (user
// data): data -> experts (trained here, or given checkpoints) -> feature store -> the ablation
// grid (single experts, probes, fusions, MoE routings) -> ColBERT students -> report.json -> report.html. Every
// stage is resumable (rerunning with the same directory continues where it stopped) and every
// artefact is written atomically, so an interrupted run never leaves a file that looks complete.
// Layout: flow/run_layout.hpp.
#include "expert_training/expert_trainer.hpp"
#include "expert_training/finetune_trainer.hpp"
#include "io/expert_record.hpp"
#include "flow/ablation.hpp"
#include "pipeline/embed_features.hpp"
#include "flow/run_layout.hpp"
#include "flow/run_report.hpp"
#include "flow/student_stage.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace relmoe {

// An expert of the flow: a given checkpoint (dir, used as is), a recipe trained from scratch
// into <run>/experts/<name> (dir empty until then), or a pretrained checkpoint fine-tuned there
// (finetune.base; data, dev and out are the run's).
struct FlowExpert : ExpertRecord {
  std::optional<ExpertTrainOptions> recipe;
  std::optional<FinetuneOptions> finetune;
};

// The grid a flow runs by default: d = hidden from 32/64/128/256 chosen on dev, and cost-aware
// routing swept over lambda_cost.
AblationOptions default_flow_ablation();

// Three experts that differ in family, tokenizer, size and pre-training, as the paper's do:
// qwen2-tiny (SentencePiece BPE 2000, pre-trained), llama-tiny (BPE 1000, no pre-training),
// gemma2-small (BPE 4000, pre-trained); fine-tuned on the run's train.tsv, pre-trained on its
// corpus.txt.
std::vector<FlowExpert> default_experts(const RunLayout& layout, std::uint64_t seed);

struct FlowOptions {
  std::filesystem::path out;
  std::string title;   // the report's heading
  std::string source;  // what the data is, for the report
  // Writes the layout's train.tsv, dev.tsv, test.tsv and corpus.txt (each atomically).
  std::function<void(const RunLayout&)> prepare_data;
  std::vector<FlowExpert> experts;
  // Adds the built-in lexical expert ("lexical", fitted on the run's train.tsv) to `experts`.
  bool lexical = true;
  AblationOptions ablation;
  // The students' stage (Table 3); nullopt skips it.
  std::optional<StudentStageOptions> students = StudentStageOptions{};
  EmbedOptions embed;
  RunReportOptions report;
};

// Runs or resumes every stage; returns report.json's content.
nlohmann::json run_flow(const FlowOptions& options);

}  // namespace relmoe
