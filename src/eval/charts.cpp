#include "eval/charts.hpp"

#include "base/error.hpp"
#include "eval/svg.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace relmoe::charts {

namespace {

constexpr const char* kGrid = R"(stroke="#d0d0d0" stroke-width="1" fill="none")";

std::string fill(const std::string& colour) { return "fill=\"" + colour + "\""; }

// A legend row of coloured squares and names starting at (x, y).
void legend(svg::Canvas& c, double x, double y, const std::vector<std::string>& names) {
  for (std::size_t i = 0; i < names.size(); ++i) {
    c.rect(x, y + 18.0 * static_cast<double>(i) - 10, 12, 12, fill(svg::colour(i)));
    c.text(x + 18, y + 18.0 * static_cast<double>(i), names[i], "start", 12);
  }
}

}  // namespace

std::string radar(const std::vector<std::string>& axes, const std::vector<Series>& series, double lo, double hi,
                  std::string_view label) {
  if (axes.empty() || !(hi > lo)) fail("radar chart", "needs at least one axis and hi > lo");
  const double cx = 260, cy = 230, radius = 165;
  const double legend_height = 18.0 * static_cast<double>(series.size());
  svg::Canvas c(720, std::max(470.0, cy + radius + 60 + legend_height), label);
  const auto n = static_cast<double>(axes.size());
  auto at = [&](std::size_t i, double value) {
    const double r = radius * std::clamp((value - lo) / (hi - lo), 0.0, 1.0);
    const double angle = -std::numbers::pi / 2 + 2 * std::numbers::pi * static_cast<double>(i) / n;
    return svg::Point{cx + r * std::cos(angle), cy + r * std::sin(angle)};
  };
  for (int ring = 1; ring <= 4; ++ring) {
    const double v = lo + (hi - lo) * ring / 4.0;
    std::vector<svg::Point> pts;
    for (std::size_t i = 0; i < axes.size(); ++i) pts.push_back(at(i, v));
    c.polygon(pts, kGrid);
    c.text(cx + 4, cy - radius * ring / 4.0 - 3, svg::num(100 * v, 1), "start", 10, R"(fill="#888")");
  }
  for (std::size_t i = 0; i < axes.size(); ++i) {
    const auto [x, y] = at(i, hi);
    c.line(cx, cy, x, y, kGrid);
    const double angle = -std::numbers::pi / 2 + 2 * std::numbers::pi * static_cast<double>(i) / n;
    const double lx = cx + (radius + 14) * std::cos(angle), ly = cy + (radius + 14) * std::sin(angle) + 4;
    const auto anchor = std::abs(std::cos(angle)) < 0.3 ? "middle" : (std::cos(angle) > 0 ? "start" : "end");
    c.text(lx, ly, axes[i], anchor, 12);
  }
  std::vector<std::string> names;
  for (std::size_t s = 0; s < series.size(); ++s) {
    const auto& colour = svg::colour(s);
    names.push_back(series[s].name);
    std::vector<svg::Point> pts;
    for (std::size_t i = 0; i < axes.size(); ++i) {
      const double v = i < series[s].values.size() ? series[s].values[i] : NAN;
      pts.push_back(at(i, std::isnan(v) ? lo : v));
    }
    c.polygon(pts, "fill=\"" + colour + "\" fill-opacity=\"0.07\" stroke=\"" + colour + "\" stroke-width=\"2.5\"",
              series[s].name);
    for (std::size_t i = 0; i < axes.size(); ++i) {
      const double v = i < series[s].values.size() ? series[s].values[i] : NAN;
      if (std::isnan(v)) continue;
      c.circle(pts[i].first, pts[i].second, 4, fill(colour),
               series[s].name + " · " + axes[i] + ": AUC " + svg::num(100 * v, 2));
    }
  }
  legend(c, 20, cy + radius + 50, names);
  return c.str();
}

std::string scatter(const std::vector<double>& x, const std::vector<double>& y, const std::vector<int>& classes,
                    const std::vector<std::string>& class_names, std::string_view label) {
  if (x.size() != y.size() || x.size() != classes.size()) fail("scatter chart", "x, y and classes differ in size");
  const double size = 400, pad = 12, top = 28;
  svg::Canvas c(size, size + top, label);
  c.rect(0.5, top + 0.5, size - 1, size - 1, kGrid);
  double lo_x = INFINITY, hi_x = -INFINITY, lo_y = INFINITY, hi_y = -INFINITY;
  for (std::size_t i = 0; i < x.size(); ++i) {
    lo_x = std::min(lo_x, x[i]), hi_x = std::max(hi_x, x[i]);
    lo_y = std::min(lo_y, y[i]), hi_y = std::max(hi_y, y[i]);
  }
  const double span = std::max({hi_x - lo_x, hi_y - lo_y, 1e-12});
  const double scale = (size - 2 * pad) / span;
  const double ox = pad + (size - 2 * pad - (hi_x - lo_x) * scale) / 2, oy = top + pad + (size - 2 * pad - (hi_y - lo_y) * scale) / 2;
  for (std::size_t i = 0; i < x.size(); ++i)
    c.circle(ox + (x[i] - lo_x) * scale, oy + (hi_y - y[i]) * scale, 2.6, fill(svg::colour(static_cast<std::size_t>(classes[i]))));
  for (std::size_t k = 0; k < class_names.size(); ++k) {
    c.rect(8 + 130.0 * static_cast<double>(k), 6, 12, 12, fill(svg::colour(k)));
    c.text(26 + 130.0 * static_cast<double>(k), 16, class_names[k], "start", 12);
  }
  return c.str();
}

std::string stacked_bars(const std::vector<std::string>& rows, const std::vector<std::string>& segments,
                         const std::vector<std::vector<double>>& fractions, std::string_view label) {
  if (fractions.size() != rows.size()) fail("stacked bar chart", "one list of fractions per row expected");
  const double label_width = 110, bar_width = 520, row_height = 24, top = 12;
  const double legend_top = top + row_height * static_cast<double>(rows.size()) + 30;
  svg::Canvas c(label_width + bar_width + 20, legend_top + 18.0 * static_cast<double>(segments.size()), label);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const double y = top + row_height * static_cast<double>(r);
    c.text(label_width - 8, y + 15, rows[r], "end", 12);
    c.rect(label_width, y + 2, bar_width, row_height - 4, R"(fill="#f2f2f2")");
    double x = label_width;
    for (std::size_t s = 0; s < segments.size() && s < fractions[r].size(); ++s) {
      const double w = bar_width * std::clamp(fractions[r][s], 0.0, 1.0);
      const std::string pct = svg::num(100 * fractions[r][s], 1) + "%";
      c.rect(x, y + 2, w, row_height - 4, fill(svg::colour(s)), rows[r] + " · " + segments[s] + ": " + pct);
      if (w >= 44) c.text(x + w / 2, y + 16, pct, "middle", 11, R"(fill="#fff")");
      x += w;
    }
  }
  const double axis_y = top + row_height * static_cast<double>(rows.size()) + 4;
  for (int tick = 0; tick <= 4; ++tick) {
    const double x = label_width + bar_width * tick / 4.0;
    c.line(x, axis_y - 2, x, axis_y + 3, R"(stroke="#888")");
    c.text(x, axis_y + 15, std::to_string(25 * tick) + "%", "middle", 10, R"(fill="#666")");
  }
  legend(c, label_width, legend_top, segments);
  return c.str();
}

std::vector<std::size_t> pareto_frontier(const std::vector<CostPoint>& points) {
  std::vector<std::size_t> order(points.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return points[a].cost != points[b].cost ? points[a].cost < points[b].cost : points[a].auc > points[b].auc;
  });
  std::vector<std::size_t> frontier;
  double best = -INFINITY;
  for (const auto i : order)
    if (points[i].auc > best) frontier.push_back(i), best = points[i].auc;
  return frontier;
}

std::string cost_curve(const std::vector<CostPoint>& points, std::string_view label) {
  if (points.empty()) fail("cost chart", "needs at least one point");
  const double left = 60, right = 250, top = 30, width = 520, height = 360;
  svg::Canvas c(left + width + right, top + height + 50, label);
  double lo_c = INFINITY, hi_c = -INFINITY, lo_a = INFINITY, hi_a = -INFINITY;
  for (const auto& p : points) {
    if (!(p.cost > 0)) fail("cost chart", "point '" + p.name + "' has no positive cost");
    lo_c = std::min(lo_c, std::log10(p.cost)), hi_c = std::max(hi_c, std::log10(p.cost));
    lo_a = std::min(lo_a, p.auc), hi_a = std::max(hi_a, p.auc);
  }
  lo_c = std::floor(lo_c), hi_c = std::max(std::ceil(hi_c), lo_c + 1);
  lo_a = std::floor(lo_a * 100 - 0.5) / 100, hi_a = std::ceil(hi_a * 100 + 0.5) / 100;
  auto at = [&](const CostPoint& p) {
    return svg::Point{left + width * (std::log10(p.cost) - lo_c) / (hi_c - lo_c), top + height * (hi_a - p.auc) / (hi_a - lo_a)};
  };
  c.rect(left, top, width, height, kGrid);
  for (double d = lo_c; d <= hi_c + 1e-9; d += 1) {
    const double x = left + width * (d - lo_c) / (hi_c - lo_c);
    c.line(x, top, x, top + height, kGrid);
    c.text(x, top + height + 16, svg::num(1e3 * std::pow(10.0, d), d < -3 ? 3 : d < -2 ? 2 : 1) + " ms", "middle", 10,
           R"(fill="#666")");
  }
  for (int tick = 0; tick <= 4; ++tick) {
    const double a = lo_a + (hi_a - lo_a) * tick / 4.0, y = top + height * (hi_a - a) / (hi_a - lo_a);
    c.line(left - 4, y, left, y, R"(stroke="#888")");
    c.text(left - 7, y + 4, svg::num(100 * a, 1), "end", 10, R"(fill="#666")");
  }
  c.text(left + width / 2, top + height + 36, "mean expert cost per pair (log scale)", "middle", 12);
  c.text(left, top - 10, "test AUC (%)", "start", 12);
  const auto frontier = pareto_frontier(points);
  for (std::size_t k = 1; k < frontier.size(); ++k) {
    const auto [x1, y1] = at(points[frontier[k - 1]]);
    const auto [x2, y2] = at(points[frontier[k]]);
    c.line(x1, y1, x2, y2, "stroke=\"" + svg::colour(0) + "\" stroke-width=\"2\"");
  }
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto on = std::find(frontier.begin(), frontier.end(), i);
    const auto [x, y] = at(points[i]);
    const std::string tip = points[i].name + ": AUC " + svg::num(100 * points[i].auc, 2) + ", " +
                            svg::num(1e3 * points[i].cost, 3) + " ms per pair";
    c.circle(x, y, on != frontier.end() ? 5 : 3.5, on != frontier.end() ? fill(svg::colour(0)) : R"(fill="#fff" stroke="#555")",
             tip);
    // Frontier labels alternate above and below the line, so neighbours do not overprint.
    if (on != frontier.end()) c.text(x + 6, (on - frontier.begin()) % 2 == 0 ? y - 8 : y + 16, points[i].name, "start", 10);
  }
  return c.str();
}

}  // namespace relmoe::charts
