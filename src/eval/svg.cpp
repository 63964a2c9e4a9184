#include "eval/svg.hpp"

#include <array>
#include <cmath>
#include <cstdio>

namespace relmoe::svg {

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string num(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  std::string s = buf;
  if (s.rfind("-0", 0) == 0 && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
  return s;
}

const std::string& colour(std::size_t i) {
  // Tableau 10: distinguishable, print-safe.
  static const std::array<std::string, 10> palette{"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
                                                   "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
  return palette[i % palette.size()];
}

Canvas::Canvas(double width, double height, std::string_view label)
    : width_(width), height_(height), label_(label) {}

Canvas& Canvas::element(std::string_view open, std::string_view style, std::string_view title) {
  body_ += open;
  if (!style.empty()) body_.append(" ").append(style);
  if (title.empty()) {
    body_ += "/>\n";
  } else {
    // The element name is the first word after '<'.
    const auto name = open.substr(1, open.find(' ') - 1);
    body_.append("><title>").append(escape(title)).append("</title></").append(name).append(">\n");
  }
  return *this;
}

Canvas& Canvas::line(double x1, double y1, double x2, double y2, std::string_view style) {
  return element("<line x1=\"" + num(x1) + "\" y1=\"" + num(y1) + "\" x2=\"" + num(x2) + "\" y2=\"" + num(y2) + "\"",
                 style, {});
}

Canvas& Canvas::rect(double x, double y, double w, double h, std::string_view style, std::string_view title) {
  return element("<rect x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" + num(std::max(0.0, w)) + "\" height=\"" +
                     num(std::max(0.0, h)) + "\"",
                 style, title);
}

Canvas& Canvas::circle(double cx, double cy, double r, std::string_view style, std::string_view title) {
  return element("<circle cx=\"" + num(cx) + "\" cy=\"" + num(cy) + "\" r=\"" + num(r) + "\"", style, title);
}

Canvas& Canvas::polygon(const std::vector<Point>& points, std::string_view style, std::string_view title) {
  std::string open = "<polygon points=\"";
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (i) open += ' ';
    open.append(num(points[i].first)).append(",").append(num(points[i].second));
  }
  return element(open + "\"", style, title);
}

Canvas& Canvas::text(double x, double y, std::string_view content, std::string_view anchor, double size,
                     std::string_view style) {
  body_ += "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\" text-anchor=\"" + std::string(anchor) + "\" font-size=\"" +
           num(size) + "\"";
  if (!style.empty()) body_.append(" ").append(style);
  body_.append(">").append(escape(content)).append("</text>\n");
  return *this;
}

std::string Canvas::str() const {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"" + escape(label_) + "\" width=\"" +
         num(width_, 0) + "\" height=\"" + num(height_, 0) + "\" viewBox=\"0 0 " + num(width_, 0) + " " +
         num(height_, 0) + "\" font-family=\"sans-serif\">\n" + body_ + "</svg>\n";
}

}  // namespace relmoe::svg
