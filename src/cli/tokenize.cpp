// relmoe tokenize: JSON lines {"text": a[, "pair": b]} on stdin -> one {"ids": [...][, "type_ids": [...]]}
// line per input line.
#include "base/error.hpp"
#include "cli/command.hpp"
#include "cli/json_line.hpp"
#include "cli/line_input.hpp"
#include "io/checkpoint_tokenizer.hpp"

#include <nlohmann/json.hpp>

#include <iostream>

namespace relmoe::cli {
namespace {

int run(const std::string& tokenizer_path, bool add_special) {
  const auto tokenizer = load_checkpoint_tokenizer(tokenizer_path);
  std::ios::sync_with_stdio(false);
  std::string line, out;
  for (std::size_t number = 1; std::getline(std::cin, line); ++number) {
    const auto where = "stdin:" + std::to_string(number);
    const auto value = parse_json_line(line, where);
    const auto encoding = encode_text_line(value, *tokenizer, add_special, where);
    out += "{\"ids\": ";
    append_array(out, encoding.ids);
    if (value.contains("pair")) {  // token types tell the two texts apart
      out += ", \"type_ids\": ";
      append_array(out, encoding.type_ids);
    }
    out += "}\n";
    if (out.size() > (1 << 16)) {
      std::cout << out;
      out.clear();
    }
  }
  std::cout << out << std::flush;
  return std::cout ? 0 : 1;
}

const Register command{{
    "tokenize",
    "Tokenize JSON lines {\"text\"[, \"pair\"]} from stdin into {\"ids\"[, \"type_ids\"]} lines on stdout",
    [](CLI::App& sub) {
      auto tokenizer = std::make_shared<std::string>();
      auto add_special = std::make_shared<bool>(false);
      sub.add_option("--tokenizer", *tokenizer, "tokenizer.json, tokenizer.model, a directory holding one, or a GGUF file")->required();
      sub.add_flag("--add-special", *add_special, "add BOS/EOS as the tokenizer's post-processor says");
      return [tokenizer, add_special] { return run(*tokenizer, *add_special); };
    }}};

}  // namespace
}  // namespace relmoe::cli
