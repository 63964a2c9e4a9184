// relmoe tokenize: JSON lines {"text": ...} on stdin -> one {"ids": [...]} line per input line.
#include "base/error.hpp"
#include "cli/command.hpp"
#include "cli/json_line.hpp"
#include "text/tokenizer.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <iostream>

namespace relmoe::cli {
namespace {

std::string text_of_line(const std::string& line, const std::string& where) {
  const nlohmann::json value = parse_json_line(line, where);
  if (!value.is_object() || !value.contains("text") || !value["text"].is_string())
    fail(where, "expected an object with a string \"text\"");
  return value["text"].get<std::string>();
}

void append_ids(std::string& out, const std::vector<TokenId>& ids) {
  out += "{\"ids\": [";
  char digits[16];
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ", ";
    out.append(digits, std::to_chars(digits, digits + sizeof digits, ids[i]).ptr);
  }
  out += "]}\n";
}

int run(const std::string& tokenizer_path, bool add_special) {
  const auto tokenizer = load_tokenizer(tokenizer_path);
  std::ios::sync_with_stdio(false);
  std::string line, out;
  for (std::size_t number = 1; std::getline(std::cin, line); ++number) {
    const auto where = "stdin:" + std::to_string(number);
    const auto text = text_of_line(line, where);
    std::vector<TokenId> ids;
    try {
      ids = tokenizer->encode(text, add_special);
    } catch (const Error& e) {
      fail(where, e.what());
    }
    append_ids(out, ids);
    if (out.size() > (1 << 16)) {
      std::cout << out;
      out.clear();
    }
  }
  std::cout << out << std::flush;
  return std::cout ? 0 : 1;
}

const Register registration{{
    "tokenize",
    "Tokenize JSON lines {\"text\": ...} from stdin into {\"ids\": [...]} lines on stdout",
    [](CLI::App& sub) {
      auto tokenizer = std::make_shared<std::string>();
      auto add_special = std::make_shared<bool>(false);
      sub.add_option("--tokenizer", *tokenizer, "tokenizer.json, tokenizer.model or a directory")->required();
      sub.add_flag("--add-special", *add_special, "add BOS/EOS as the tokenizer's post-processor says");
      return [tokenizer, add_special] { return run(*tokenizer, *add_special); };
    }}};

}  // namespace
}  // namespace relmoe::cli
