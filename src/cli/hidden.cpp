// relmoe hidden: JSON lines {"ids": [...]} or {"text": "..."[, "pair": "..."]} on stdin -> one line
// per input line, same order, computed in batches under a token budget. Decoders print
// {"last_hidden": [...], "score": x} (the last token's state) or, with --all-tokens,
// {"hidden": [[...], ...]} (every token after the final norm); encoders (BERT, XLM-R) always
// print {"hidden": [[...], ...]}.
#include "base/error.hpp"
#include "cli/command.hpp"
#include "cli/json_line.hpp"
#include "cli/line_input.hpp"
#include "cli/thread_option.hpp"
#include "io/checkpoint_tokenizer.hpp"
#include "models/encoder.hpp"
#include "models/expert.hpp"
#include "models/prompt_encoding.hpp"
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
  std::int64_t max_prompt_tokens = kDefaultPromptTokens;
  bool pre_norm = false, allow_unused = false, all_tokens = false;
};

void append_float(std::string& out, float value) {
  char digits[32];  // shortest decimal that round-trips the float32
  out.append(digits, std::to_chars(digits, digits + sizeof digits, value).ptr);
}

void append_row(std::string& out, const float* row, std::int64_t width) {
  out += '[';
  for (std::int64_t i = 0; i < width; ++i) {
    if (i) out += ", ";
    append_float(out, row[i]);
  }
  out += ']';
}

// {"hidden": [[...] per real token]} from a [B, T, H] f32 tensor; `lengths` real tokens per row.
std::string all_token_lines(const torch::Tensor& hidden, const std::vector<Encoding>& batch) {
  const auto h = hidden.to(torch::kCPU, torch::kFloat32).contiguous();
  const auto width = h.size(2);
  std::string text;
  for (std::size_t b = 0; b < batch.size(); ++b) {
    text += "{\"hidden\": [";
    for (std::size_t t = 0; t < batch[b].ids.size(); ++t) {
      if (t) text += ", ";
      append_row(text, h[static_cast<std::int64_t>(b)][static_cast<std::int64_t>(t)].data_ptr<float>(), width);
    }
    text += "]}\n";
  }
  return text;
}

void require_finite(const torch::Tensor& values, const std::vector<std::size_t>& lines) {
  const auto bad = torch::isfinite(values.to(torch::kFloat32)).flatten(1).all(1).logical_not().nonzero();
  if (bad.numel() > 0)
    fail("stdin:" + std::to_string(lines[static_cast<std::size_t>(bad[0][0].item<std::int64_t>())]),
         "the model produced a non-finite hidden state or score");
}

// A {"text"[, "pair"]} line through `tokenizer` (special tokens added), or an {"ids"} line.
Encoding read_line(const nlohmann::json& value, const Tokenizer* tokenizer, std::int64_t vocab, std::int64_t types,
                   const std::string& where) {
  if (is_text_line(value)) {
    if (!tokenizer) fail(where, "\"text\" needs a tokenizer in the model directory");
    return encode_text_line(value, *tokenizer, true, where);
  }
  if (!value.is_object() || !value.contains("ids") || !value["ids"].is_array())
    fail(where, "expected an object with an \"ids\" array or a \"text\" string");
  return ids_line(value, vocab, types, where);
}

// One model behind `hidden`: how lines become encodings and batches become output lines.
struct Model {
  std::function<Encoding(const nlohmann::json&, const std::string&)> read;
  std::function<std::string(const std::vector<Encoding>&, const std::vector<std::size_t>&)> run;
  std::size_t limit = 0;  // longest input in tokens
};

Model decoder_model(const Options& o) {
  auto expert = std::make_shared<const Expert>(
      Expert::load(o.model, {parse_dtype(o.dtype), parse_device(o.device), o.allow_unused}));
  Model m;
  m.limit = static_cast<std::size_t>(max_prompt_tokens(expert->model().config(), o.max_prompt_tokens));
  m.read = [expert](const nlohmann::json& value, const std::string& where) {
    return read_line(value, expert->tokenizer(), expert->model().config().vocab_size, 1, where);
  };
  m.run = [expert, o](const std::vector<Encoding>& batch, const std::vector<std::size_t>& lines) {
    std::vector<std::vector<TokenId>> ids;
    for (const auto& e : batch) ids.push_back(e.ids);
    if (o.all_tokens) {
      torch::InferenceMode guard;
      ForwardOptions options;
      options.all_positions = true;
      const auto out = expert->model().forward(make_batch(ids, expert->model().device()), options);
      require_finite(out.hidden, lines);
      return all_token_lines(out.hidden, batch);
    }
    const auto out = expert->hidden(ids, o.pre_norm);
    if (const auto bad = first_non_finite_row(out); bad >= 0)
      fail("stdin:" + std::to_string(lines[static_cast<std::size_t>(bad)]),
           "the model produced a non-finite hidden state or score");
    const auto hidden = out.last_hidden.cpu().contiguous();
    const auto score = out.score.defined() ? out.score.cpu().contiguous() : torch::Tensor();
    std::string text;
    for (std::int64_t b = 0; b < hidden.size(0); ++b) {
      text += "{\"last_hidden\": ";
      append_row(text, hidden.data_ptr<float>() + b * hidden.size(1), hidden.size(1));
      if (score.defined()) {
        text += ", \"score\": ";
        append_float(text, score.data_ptr<float>()[b]);
      }
      text += "}\n";
    }
    return text;
  };
  return m;
}

Model encoder_model(const Options& o) {
  auto encoder = std::make_shared<const Encoder>(
      Encoder::load(o.model, parse_dtype(o.dtype), parse_device(o.device), o.allow_unused));
  std::shared_ptr<const Tokenizer> tokenizer = find_checkpoint_tokenizer(o.model);
  const auto& c = encoder->config();
  // XLM-R / RoBERTa positions start after pad_token_id.
  const std::int64_t positions = c.max_position_embeddings - (c.family().positions_from_padding ? c.pad_token_id + 1 : 0);
  Model m;
  m.limit = static_cast<std::size_t>(std::min(positions, o.max_prompt_tokens));
  m.read = [encoder, tokenizer](const nlohmann::json& value, const std::string& where) {
    return read_line(value, tokenizer.get(), encoder->config().vocab_size, encoder->config().type_vocab_size, where);
  };
  m.run = [encoder](const std::vector<Encoding>& batch, const std::vector<std::size_t>& lines) {
    torch::InferenceMode guard;
    // The batch is built on the CPU; forward moves it to the encoder's device.
    const auto hidden = encoder->forward(make_encoder_batch(batch, encoder->config().pad_token_id, torch::kCPU));
    require_finite(hidden, lines);
    return all_token_lines(hidden, batch);
  };
  return m;
}

int run(const Options& o) {
  if (o.batch <= 0) fail("--batch", "must be positive");
  if (o.token_budget <= 0) fail("--token-budget", "must be positive");
  if (o.max_prompt_tokens < 1) fail("--max-prompt-tokens", "must be at least 1");
  set_threads(o.threads);
  const Model model = is_encoder_directory(o.model) ? encoder_model(o) : decoder_model(o);
  std::ios::sync_with_stdio(false);
  std::vector<Encoding> batch;
  std::vector<std::size_t> lines;
  std::int64_t truncated = 0;
  std::size_t longest = 0;
  auto flush = [&] {
    if (!batch.empty()) std::cout << model.run(batch, lines) << std::flush;
    batch.clear();
    lines.clear();
    longest = 0;
  };
  std::string line;
  for (std::size_t number = 1; std::getline(std::cin, line); ++number) {
    const auto where = "stdin:" + std::to_string(number);
    auto encoding = model.read(parse_json_line(line, where), where);
    if (encoding.ids.empty()) fail(where, "no tokens");
    if (truncate_prompt(encoding.ids, model.limit)) {
      ++truncated;
      truncate_prompt(encoding.type_ids, model.limit);  // the same positions go
    }
    // A batch holds at most --batch lines and --token-budget padded tokens; a longer input runs alone.
    const std::size_t grown = std::max(longest, encoding.ids.size());
    if (batch.size() == static_cast<std::size_t>(o.batch) ||
        grown * (batch.size() + 1) > static_cast<std::size_t>(o.token_budget))
      flush();
    longest = std::max(longest, encoding.ids.size());
    batch.push_back(std::move(encoding));
    lines.push_back(number);
  }
  flush();
  if (truncated > 0)
    spdlog::warn("{} inputs were longer than {} tokens and lost their middle (kept the first {} and the last {})",
                 truncated, model.limit, model.limit - std::min(model.limit, kPromptTailTokens),
                 std::min(model.limit, kPromptTailTokens));
  return std::cout ? 0 : 1;
}

const Register command{{
    "hidden",
    "Hidden states for JSON lines {\"ids\"|\"text\"[, \"pair\"]} on stdin: decoders' last token (and yes/no "
    "score), or every token (--all-tokens; encoders always)",
    [](CLI::App& sub) {
      auto o = std::make_shared<Options>();
      sub.add_option("--model", o->model, "decoder or encoder directory (config.json, model.safetensors, ...)")
          ->required();
      sub.add_option("--dtype", o->dtype, "f32, bf16 or f16")->capture_default_str();
      sub.add_option("--batch", o->batch, "lines per forward pass")->capture_default_str();
      add_threads_option(sub, o->threads);
      sub.add_flag("--pre-norm", o->pre_norm, "hidden state before the final norm");
      sub.add_flag("--all-tokens", o->all_tokens, "every token's final hidden state: {\"hidden\": [[...], ...]}");
      sub.add_option("--token-budget", o->token_budget, "padded tokens per batch (a longer input runs alone)")
          ->capture_default_str();
      sub.add_option("--max-prompt-tokens", o->max_prompt_tokens,
                     "longest input in tokens (also capped by the model's positions); longer inputs lose their middle")
          ->capture_default_str();
      sub.add_flag("--allow-unused-tensors", o->allow_unused, "load a checkpoint with tensors config.json does not use");
      sub.add_option("--device", o->device, "cpu, cuda, cuda:N or auto")->capture_default_str();
      return [o] { return run(*o); };
    }}};

}  // namespace
}  // namespace relmoe::cli
