#include "text/prompt_template.hpp"

#include "base/error.hpp"

namespace relmoe {
PromptTemplate::PromptTemplate(std::string_view text, const std::string& source) : text_(text) {
  std::string literal;
  auto flush = [&] {
    if (literal.empty()) return;
    Segment segment;
    segment.literal = std::move(literal);
    segments_.push_back(std::move(segment));
    literal.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
      literal += c;
      ++i;
      continue;
    }
    if (c == '}') fail(source, "unmatched '}' at offset " + std::to_string(i) + " (write '}}' for a brace)");
    if (c != '{') {
      literal += c;
      continue;
    }
    const auto close = text.find('}', i);
    if (close == std::string_view::npos)
      fail(source, "unclosed '{' at offset " + std::to_string(i) + " (write '{{' for a brace)");
    const auto name = text.substr(i + 1, close - i - 1);
    Segment segment;
    if (name == "query") segment.field = Field::Query;
    else if (name == "market") segment.field = Field::Market;
    else if (name == "item") segment.field = Field::Item;
    else if (name == "item_desc") segment.field = Field::ItemDesc;
    else fail(source, "unknown placeholder {" + std::string(name) + "} (known: {query} {market} {item} {item_desc})");
    // Alone on its line: the line break after it (or, on the last line, before it) belongs to it.
    const bool starts_line = i == 0 || text[i - 1] == '\n';
    const bool ends_line = close + 1 == text.size() || text[close + 1] == '\n';
    std::size_t last = close;  // last character the placeholder takes
    if (starts_line && ends_line) {
      if (close + 1 < text.size()) {
        segment.line_break_after = "\n";
        last = close + 1;
      } else if (!literal.empty()) {
        literal.pop_back();
        segment.line_break_before = "\n";
      }
    }
    flush();
    segments_.push_back(std::move(segment));
    i = last;
  }
  flush();
}

std::string PromptTemplate::render(const PromptFields& fields) const {
  std::string out;
  for (const auto& s : segments_) {
    if (s.field == Field::None) {
      out += s.literal;
      continue;
    }
    const std::string_view value = s.field == Field::Query    ? fields.query
                                   : s.field == Field::Market ? fields.market
                                   : s.field == Field::Item   ? fields.item
                                                              : fields.item_desc;
    if (value.empty() && (!s.line_break_after.empty() || !s.line_break_before.empty())) continue;
    out.append(s.line_break_before).append(value).append(s.line_break_after);
  }
  return out;
}

}  // namespace relmoe
