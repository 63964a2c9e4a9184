// relmoe hidden: JSON lines {"ids": [...]} or {"text": "..."} on stdin -> one line
// {"last_hidden": [...], "score": x} per input line, same order, computed in batches.
#include "base/error.hpp"
#include "cli/command.hpp"
#include "cli/json_line.hpp"
#include "models/expert.hpp"
#include "pipeline/bucketing.hpp"
#include "runtime/compute.hpp"
#include "text/truncation.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <charconv>
#include <iostream>

namespace relmoe::cli {
namespace {

struct Options {
  std::string model, dtype = "f32", device = "auto";
  int batch = 16, threads = 0;
  std::int64_t token_budget = BatchPlanOptions{}.token_budget;
  bool pre_norm = false, allow_unused = false;
};

std::vector<TokenId> ids_of_line(const std::string& line, const std::string& where,
                                 const Expert& expert) {
  const nlohmann::json value = parse_json_line(line, where);
  std::vector<TokenId> ids;
  if (value.is_object() && value.contains("ids") && value["ids"].is_array()) {
    const auto vocab = expert.model().config().vocab_size;
    for (const auto& id : value["ids"]) {
      if (!id.is_number_integer() || id.get<std::int64_t>() < 0 || id.get<std::int64_t>() >= vocab)
        fail(where, "id " + id.dump() + " is not a token id of this model (vocabulary size " +
                        std::to_string(vocab) + ")");
      ids.push_back(id.get<TokenId>());
    }
  } else if (value.is_object() && value.contains("text") && value["text"].is_string()) {
    if (!expert.tokenizer()) fail(where, "\"text\" needs a tokenizer in the model directory");
    try {
      ids = expert.tokenizer()->encode(value["text"].get<std::string>(), true);
    } catch (const Error& e) {
      fail(where, e.what());
    }
  } else {
    fail(where, "expected an object with an \"ids\" array or a \"text\" string");
  }
  if (ids.empty()) fail(where, "no tokens");
  return ids;
}

void append_float(std::string& out, float value) {
  char digits[32];  // shortest decimal that round-trips the float32
  out.append(digits, std::to_chars(digits, digits + sizeof digits, value).ptr);
}

void write_batch(const Expert& expert, const std::vector<std::vector<TokenId>>& batch,
                 const std::vector<std::size_t>& lines, bool pre_norm) {
  auto out = expert.hidden(batch, pre_norm);
  if (const auto bad = first_non_finite_row(out); bad >= 0)
    fail("stdin:" + std::to_string(lines[bad]), "the model produced a non-finite hidden state or score");
  auto hidden = out.last_hidden.cpu().contiguous();
  auto score = out.score.defined() ? out.score.cpu().contiguous() : torch::Tensor();
  const auto width = hidden.size(1);
  std::string text;
  for (std::int64_t b = 0; b < hidden.size(0); ++b) {
    const float* row = hidden.data_ptr<float>() + b * width;
    text += "{\"last_hidden\": [";
    for (std::int64_t i = 0; i < width; ++i) {
      if (i) text += ", ";
      append_float(text, row[i]);
    }
    text += "]";
    if (score.defined()) {
      text += ", \"score\": ";
      append_float(text, score.data_ptr<float>()[b]);
    }
    text += "}\n";
  }
  std::cout << text << std::flush;
}

int run(const Options& o) {
  if (o.batch <= 0) fail("--batch", "must be positive");
  if (o.token_budget <= 0) fail("--token-budget", "must be positive");
  set_threads(o.threads);
  const auto expert =
      Expert::load(o.model, {parse_dtype(o.dtype), parse_device(o.device), o.allow_unused});
  const auto limit = static_cast<std::size_t>(max_prompt_tokens(expert.model().config(), o.token_budget));
  std::ios::sync_with_stdio(false);
  std::vector<std::vector<TokenId>> batch;
  std::vector<std::size_t> lines;
  std::int64_t truncated = 0;
  std::string line;
  std::size_t longest = 0;
  auto flush = [&] {
    if (!batch.empty()) write_batch(expert, batch, lines, o.pre_norm);
    batch.clear();
    lines.clear();
    longest = 0;
  };
  for (std::size_t number = 1; std::getline(std::cin, line); ++number) {
    auto ids = ids_of_line(line, "stdin:" + std::to_string(number), expert);
    truncated += truncate_prompt(ids, limit);
    // A batch holds at most --batch lines and --token-budget padded tokens.
    const std::size_t grown = std::max(longest, ids.size());
    if (batch.size() == static_cast<std::size_t>(o.batch) ||
        grown * (batch.size() + 1) > static_cast<std::size_t>(o.token_budget))
      flush();
    longest = std::max(longest, ids.size());
    batch.push_back(std::move(ids));
    lines.push_back(number);
  }
  flush();
  if (truncated > 0)
    spdlog::warn("{} inputs were longer than {} tokens and lost their middle (kept the first {} and the last {})",
                 truncated, limit, limit - std::min(limit, kPromptTailTokens), std::min(limit, kPromptTailTokens));
  return std::cout ? 0 : 1;
}

const Register registration{{
    "hidden",
    "Last-token hidden states (and yes/no scores) for JSON lines {\"ids\"|\"text\"} on stdin",
    [](CLI::App& sub) {
      auto o = std::make_shared<Options>();
      sub.add_option("--model", o->model, "expert directory (config.json, model.safetensors, ...)")
          ->required();
      sub.add_option("--dtype", o->dtype, "f32, bf16 or f16")->capture_default_str();
      sub.add_option("--batch", o->batch, "lines per forward pass")->capture_default_str();
      sub.add_option("--threads", o->threads, "CPU threads (0 = all cores)")->capture_default_str();
      sub.add_flag("--pre-norm", o->pre_norm, "hidden state before the final norm");
      sub.add_option("--token-budget", o->token_budget,
                     "padded tokens per batch and longest input (also capped by the model's positions); longer inputs lose their middle")
          ->capture_default_str();
      sub.add_flag("--allow-unused-tensors", o->allow_unused, "load a checkpoint with tensors config.json does not use");
      sub.add_option("--device", o->device, "cpu, cuda, cuda:N or auto")->capture_default_str();
      return [o] { return run(*o); };
    }}};

}  // namespace
}  // namespace relmoe::cli
