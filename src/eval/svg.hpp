#pragma once
// A minimal inline-SVG writer for the report page: elements appended as text, every string
// XML-escaped, numbers printed with a fixed small precision. No scripting, no external refs.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace relmoe::svg {

// Escapes & < > " ' for XML text and attribute values.
std::string escape(std::string_view text);
// `value` with `decimals` digits after the point ("12.3"); "-0.0" is printed as "0.0".
std::string num(double value, int decimals = 1);
// The i-th colour of a categorical palette (opaque "#rrggbb", cycles after 10).
const std::string& colour(std::size_t i);

using Point = std::pair<double, double>;

class Canvas {
 public:
  // `label` becomes the SVG's accessible name (role="img" aria-label).
  Canvas(double width, double height, std::string_view label);

  // `style` is raw presentation attributes, e.g. R"(stroke="#999" stroke-width="1")".
  Canvas& line(double x1, double y1, double x2, double y2, std::string_view style);
  // `title` (optional) becomes a hover tooltip.
  Canvas& rect(double x, double y, double w, double h, std::string_view style, std::string_view title = {});
  Canvas& circle(double cx, double cy, double r, std::string_view style, std::string_view title = {});
  Canvas& polygon(const std::vector<Point>& points, std::string_view style, std::string_view title = {});
  // `anchor`: start | middle | end.
  Canvas& text(double x, double y, std::string_view content, std::string_view anchor = "start",
               double size = 12, std::string_view style = {});

  std::string str() const;

 private:
  Canvas& element(std::string_view open, std::string_view style, std::string_view title);

  double width_, height_;
  std::string label_;
  std::string body_;
};

}  // namespace relmoe::svg
