#include "flow/run_flow.hpp"

#include "base/error.hpp"
#include "base/stopwatch.hpp"
#include "io/json_file.hpp"
#include "io/checkpoint.hpp"
#include "io/expert_base.hpp"
#include "io/feature_store.hpp"
#include "io/gguf_tensors.hpp"
#include "io/pair_reader.hpp"
#include "models/lexical_expert.hpp"
#include "models/open_expert.hpp"
#include "models/model_config.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <iostream>

namespace relmoe {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// run.json: seconds spent per stage (summed over resumed runs, in first-run order) and facts
// measured along the way (expert training time, embedding throughput).
class RunLog {
 public:
  explicit RunLog(fs::path path) : path_(std::move(path)) {
    if (fs::exists(path_)) json_ = read_json_file(path_.string());
    if (!json_.contains("stages")) json_["stages"] = Json::array();
    if (!json_.contains("experts")) json_["experts"] = Json::object();
  }

  void add_stage(const std::string& stage, double seconds) {
    for (auto& s : json_["stages"])
      if (s["stage"] == stage) {
        s["seconds"] = s["seconds"].get<double>() + seconds;
        return save();
      }
    json_["stages"].push_back({{"stage", stage}, {"seconds", seconds}});
    save();
  }
  Json& expert(const std::string& name) {
    auto& j = json_["experts"][name];
    if (j.is_null()) j = Json::object();
    return j;
  }
  const Json& stages() const { return json_["stages"]; }
  void save() const { write_json_file(path_.string(), json_); }

 private:
  fs::path path_;
  Json json_;
};

std::int64_t count_pairs(const fs::path& path) { return static_cast<std::int64_t>(read_pairs(path).size()); }

void data_stage(const FlowOptions& o, const RunLayout& layout, RunLog& log) {
  if (fs::exists(layout.data_manifest())) return;
  const auto start = SteadyClock::now();
  fs::create_directories(layout.data());
  o.prepare_data(layout);
  // Written last: only a finished data stage has a manifest.
  write_json_file(layout.data_manifest().string(), {{"source", o.source},
                                                    {"train", count_pairs(layout.train())},
                                                    {"dev", count_pairs(layout.dev())},
                                                    {"test", count_pairs(layout.test())}});
  log.add_stage("data", seconds_since(start));
}

void add_train_time(RunLog& log, const std::string& expert, double seconds) {
  auto& facts = log.expert(expert);
  facts["train_seconds"] = facts.value("train_seconds", 0.0) + seconds;
  log.add_stage("train " + expert, seconds);
}

// A pretrained checkpoint fine-tuned on the run's train split, stopped early on its dev split.
ExpertRecord finetune_stage(const FlowExpert& e, const RunLayout& layout, RunLog& log) {
  auto recipe = *e.finetune;
  recipe.out = layout.experts() / e.name;
  recipe.data = layout.train();
  recipe.dev = layout.dev();
  if (fs::exists(recipe.out / "relmoe.json") && !fs::exists(recipe.out / ".train-state")) return {e.name, recipe.out};
  spdlog::info("flow: fine-tuning expert {} from {} on {} pairs", e.name, recipe.base.string(),
               recipe.max_pairs > 0 ? std::to_string(recipe.max_pairs) : "all");
  const auto start = SteadyClock::now();
  const auto result = finetune_expert(recipe);
  add_train_time(log, e.name, seconds_since(start));
  auto& facts = log.expert(e.name);
  facts["finetune"] = {{"pairs", result.train_pairs}, {"dev_aucs", result.dev_aucs}, {"best_step", result.best_step}};
  log.save();
  return {e.name, recipe.out};
}

// The experts with their directories, training those made here (each once).
std::vector<ExpertRecord> experts_stage(const std::vector<FlowExpert>& experts, const RunLayout& layout, RunLog& log) {
  std::vector<ExpertRecord> specs;
  for (const auto& e : experts) {
    if (e.finetune) {
      specs.push_back(finetune_stage(e, layout, log));
      continue;
    }
    if (!e.recipe) {
      specs.push_back(e);
      continue;
    }
    auto recipe = *e.recipe;
    recipe.out = layout.experts() / e.name;
    specs.push_back({e.name, recipe.out});
    if (fs::exists(recipe.out / "config.json") && !fs::exists(recipe.out / ".train-state")) continue;
    spdlog::info("flow: training expert {} ({} {})", e.name, recipe.arch, recipe.size);
    const auto start = SteadyClock::now();
    train_expert(recipe);
    add_train_time(log, e.name, seconds_since(start));
  }
  return specs;
}

// The expert's column so far (rows_complete 0 when the store does not have it yet).
ExpertColumn column_done(const fs::path& store, const std::string& expert) {
  if (!fs::exists(store / "manifest.json")) return {};
  const auto s = FeatureStore::open(store);
  for (const auto& column : s.experts())
    if (column.name == expert) return column;
  return {};
}

void embed_stage(const EmbedOptions& options, const RunLayout& layout, const std::vector<ExpertRecord>& specs,
                 const std::vector<Pair>& all, RunLog& log) {
  for (const auto& spec : specs) {
    const auto done = column_done(layout.features(), spec.name);
    const auto before = done.rows_complete;
    if (before == static_cast<std::int64_t>(all.size()) && done.cost > 0) continue;
    const auto start = SteadyClock::now();
    embed_features({spec}, all, layout.features(), options);
    const double seconds = seconds_since(start);
    auto& facts = log.expert(spec.name);
    facts["embed_pairs"] = facts.value("embed_pairs", std::int64_t{0}) + static_cast<std::int64_t>(all.size()) - before;
    facts["embed_seconds"] = facts.value("embed_seconds", 0.0) + seconds;
    log.add_stage("embed " + spec.name, seconds);
  }
}

std::string tokenizer_name(const fs::path& path) {
  const auto p = path.lexically_normal();
  return fs::is_directory(p) ? p.filename().string() + "/" : p.parent_path().filename().string() + "/" + p.filename().string();
}

void add_measured(Json& j, const Json& facts, double cost) {
  if (facts.contains("train_seconds")) j["train_seconds"] = facts["train_seconds"];
  if (facts.contains("finetune")) j["finetune"] = facts["finetune"];
  if (facts.value("embed_seconds", 0.0) > 0)
    j["embed_pairs_per_second"] = facts["embed_pairs"].get<double>() / facts["embed_seconds"].get<double>();
  if (cost > 0) j["cost_ms_per_pair"] = 1e3 * cost;
}

// One row of the report's expert table.
Json describe_expert(const FlowExpert& e, const ExpertColumn& column, const Json& facts) {
  if (expert_kind(column.dir) == ExpertKind::Lexical) {
    const auto lexical = LexicalExpert::load(column.dir);
    const auto& c = lexical.config();
    Json j = {{"name", e.name},
              {"family", "lexical"},
              {"size", "char " + std::to_string(c.min_n) + "-" + std::to_string(c.max_n) + "-grams, 2^" +
                           std::to_string(c.hash_bits) + " hashed features, width " + std::to_string(lexical.width())},
              {"tokenizer", "character n-grams"},
              {"vocab", std::int64_t{1} << c.hash_bits},
              {"parameters", (std::int64_t{1} << c.hash_bits) + 1},
              {"pretrain", std::to_string(c.folds) + "-fold cross-fitted on train"}};
    add_measured(j, facts, column.cost);
    return j;
  }
  const auto dir = expert_checkpoint(column.dir);
  const auto config = load_model_config(dir);
  std::int64_t parameters = 0;
  const auto checkpoint = Checkpoint::open(dir);
  for (const auto& name : checkpoint.names()) {
    std::int64_t n = 1;
    for (auto d : checkpoint.shape(name)) n *= d;
    parameters += n;
  }
  Json j = {{"name", e.name},
            {"family", config.model_type},
            {"size", "hidden " + std::to_string(config.hidden_size) + ", " + std::to_string(config.num_hidden_layers) + " layers"},
            {"vocab", config.vocab_size},
            {"parameters", parameters}};
  if (e.recipe) {
    j["tokenizer"] = e.recipe->tokenizer.empty() ? e.recipe->train_tokenizer + " (trained here)" : tokenizer_name(e.recipe->tokenizer);
    j["pretrain"] = !e.recipe->pretrain_corpus.empty() && e.recipe->pretrain_steps > 0
                        ? std::to_string(e.recipe->pretrain_steps) + " steps on the corpus"
                        : "none";
  } else if (e.finetune) {
    j["tokenizer"] = is_gguf_file(dir) ? "GGUF metadata" : "the base's";
    j["pretrain"] = "pretrained " + e.finetune->base.filename().string() + ", " +
                    (e.finetune->full ? std::string("fully") : "LoRA") + " fine-tuned on " +
                    (e.finetune->max_pairs > 0 ? std::to_string(e.finetune->max_pairs) : std::string("all")) + " train pairs";
  } else {
    j["tokenizer"] = is_gguf_file(dir)                        ? "GGUF metadata"
                     : fs::exists(dir / "tokenizer.json") ? "tokenizer.json"
                                                          : "tokenizer.model";
    j["pretrain"] = "given checkpoint";
  }
  add_measured(j, facts, column.cost);
  return j;
}

}  // namespace

AblationOptions default_flow_ablation() {
  AblationOptions o;
  o.capacity_grid = {32, 64, 128, 256};
  o.cost_sweep = {0.1, 0.3, 1.0, 3.0};
  return o;
}

std::vector<FlowExpert> default_experts(const RunLayout& layout, std::uint64_t seed) {
  auto recipe = [&](std::string arch, std::string size, std::string tokenizer, long pretrain_steps, long steps,
                    int batch) {
    ExpertTrainOptions o;
    o.arch = std::move(arch);
    o.size = std::move(size);
    o.train_tokenizer = std::move(tokenizer);
    o.data = layout.train();
    if (pretrain_steps > 0) o.pretrain_corpus = layout.corpus();
    o.pretrain_steps = pretrain_steps;
    o.steps = steps;
    o.batch_size = batch;
    o.seed = seed;
    return FlowExpert{{o.arch + "-" + o.size, {}, 0}, o, std::nullopt};
  };
  // Step counts keep all three within about four minutes on two cores.
  return {recipe("qwen2", "tiny", "spm-bpe:2000", 200, 400, 32), recipe("llama", "tiny", "spm-bpe:1000", 0, 400, 32),
          recipe("gemma2", "small", "spm-bpe:4000", 100, 200, 16)};
}

Json run_flow(const FlowOptions& o) {
  const RunLayout layout{o.out};
  fs::create_directories(layout.root);
  RunLog log(layout.run_json());
  data_stage(o, layout, log);
  auto experts = o.experts;
  const bool has_lexical = std::any_of(experts.begin(), experts.end(), [](const auto& e) { return e.dir == kBuiltinLexical; });
  if (o.lexical && !has_lexical) experts.push_back({{"lexical", kBuiltinLexical}, std::nullopt, std::nullopt});
  const auto specs = experts_stage(experts, layout, log);

  const auto train = read_pairs(layout.train()), dev = read_pairs(layout.dev()), test = read_pairs(layout.test());
  std::vector<Pair> all = train;
  all.insert(all.end(), dev.begin(), dev.end());
  all.insert(all.end(), test.begin(), test.end());
  spdlog::info("flow: feature store for {} pairs", all.size());
  EmbedOptions embed = o.embed;
  embed.lexical_train = train;
  embed_stage(embed, layout, specs, all, log);

  spdlog::info("flow: MoE, fusion and routing grid");
  auto start = SteadyClock::now();
  AblationOptions ablation = o.ablation;
  ablation.resume = true;
  Json report = run_ablation(FeatureStore::open(layout.features()), train, dev, test, ablation, layout.ablation());
  log.add_stage("ablation grid", seconds_since(start));

  if (o.students) {
    start = SteadyClock::now();
    const auto store = FeatureStore::open(layout.features());
    report["students"] = run_student_stage(layout, store, train, test, report.value("comparisons", Json::object()),
                                           *o.students);
    log.add_stage("students", seconds_since(start));
  }

  report["title"] = o.title;
  report["data"] = read_json_file(layout.data_manifest().string());
  report["experts"] = Json::array();
  const auto store = FeatureStore::open(layout.features());
  for (const auto& e : experts)
    report["experts"].push_back(describe_expert(e, store.experts()[store.expert_index(e.name)], log.expert(e.name)));
  report["stages"] = log.stages();
  write_json_file(layout.report_json().string(), report);
  std::cout << ablation_markdown(report);

  start = SteadyClock::now();
  render_run_report(layout.root, o.report);
  log.add_stage("report", seconds_since(start));
  return report;
}

}  // namespace relmoe
