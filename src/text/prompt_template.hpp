#pragma once
// The text an expert reads for one (query, market, item, item_desc) pair. Placeholders
// {query} {market} {item} {item_desc}; "{{" and "}}" stand for literal braces. A placeholder
// alone on its line whose value is empty drops the whole line, so an empty item_desc leaves
// no blank line.
#include <string>
#include <string_view>
#include <vector>

namespace relmoe {

struct PromptFields {
  std::string_view query, market, item, item_desc;
};

class PromptTemplate {
 public:
  // Ends where the answer token follows.
  static constexpr std::string_view kDefault =
      "Query: {query}\nMarket: {market}\nProduct: {item}\n{item_desc}\n"
      "Is the product relevant to the query? Answer:";

  // Throws relmoe::Error naming `source` on an unknown placeholder or an unmatched brace.
  explicit PromptTemplate(std::string_view text, const std::string& source = "prompt_template");
  PromptTemplate() : PromptTemplate(kDefault) {}

  std::string render(const PromptFields& fields) const;
  const std::string& text() const { return text_; }

 private:
  enum class Field { None, Query, Market, Item, ItemDesc };
  // Literal text, or a field with the newline that goes away with it when it renders empty.
  struct Segment {
    std::string literal;
    Field field = Field::None;
    std::string line_break_before, line_break_after;
  };
  std::string text_;
  std::vector<Segment> segments_;
};

}  // namespace relmoe
