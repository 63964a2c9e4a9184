// report.html: rendered from a synthetic ablation report (every contract variant) and t-SNE maps of
// random vectors; parsed as XML (libxml2) and its structure checked with XPath; when Debian's
// chromium is installed, screenshotted headless and compared against the same page without its
// SVGs, so a chart that does not render fails the test.
#include "eval/comparison.hpp"
#include "eval/report.hpp"
#include "eval/report_html.hpp"
#include "eval/svg.hpp"
#include "eval/tsne.hpp"
#include "support.hpp"

#include <torch/utils.h>
#include <gtest/gtest.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <png.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>

namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kExperts{"a", "b", "c"};
const std::vector<std::string> kMarkets{"m-en", "m-th", "m<&>\"q"};  // the last one needs escaping

std::vector<std::string> contract_variants() {
  std::vector<std::string> v;
  for (const auto& e : kExperts) v.push_back("single:" + e);
  for (const auto& e : kExperts) v.push_back("probe:" + e);
  v.insert(v.end(), {"fusion:a+b", "fusion:a+c", "fusion:b+c", "full:concat", "full:weighted", "moe:hard:concat",
                     "moe:hard:weighted", "moe:soft:concat", "moe:pseudo:concat", "moe:rule:concat"});
  return v;
}

struct Fixture {
  nlohmann::json report;
  std::vector<relmoe::TsneMap> maps;
};

// Every variant scores the same 600 test pairs with its own signal strength; routed variants use
// two experts per pair.
Fixture make_fixture() {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::vector<float> labels;
  std::vector<std::string> markets, ids;
  for (int i = 0; i < 600; ++i) {
    labels.push_back(static_cast<float>(i % 2));
    markets.push_back(kMarkets[static_cast<std::size_t>(i / 2) % kMarkets.size()]);
    ids.push_back("t" + std::to_string(i));
  }
  Fixture f;
  f.report = {{"title", "Synthetic <report>"},
              {"variants", nlohmann::json::object()},
              {"order", nlohmann::json::array()},
              {"train_seconds", nlohmann::json::object()},
              {"data", {{"source", "unit test"}, {"train", 1000}, {"dev", 100}, {"test", 600}}},
              {"experts", nlohmann::json::array()},
              {"stages", {{{"stage", "data"}, {"seconds", 1.5}}, {{"stage", "embed a"}, {"seconds", 12.0}}}}};
  std::map<std::string, std::vector<double>> scores;
  double strength = 0.2;
  for (const auto& name : contract_variants()) {
    strength += 0.1;
    std::vector<double> s;
    for (float y : labels) s.push_back(strength * y + noise(rng));
    const bool routed = name.rfind("moe:", 0) == 0;
    std::vector<std::uint8_t> active;
    for (std::size_t i = 0; i < labels.size(); ++i)
      for (std::size_t e = 0; e < kExperts.size(); ++e) active.push_back(!routed || e != (i + e) % 3);
    f.report["variants"][name] =
        relmoe::to_json(relmoe::evaluate({s, labels, markets, kExperts, active, {0.001, 0.002, 0.004}}, 50, 0));
    f.report["order"].push_back(name);
    f.report["train_seconds"][name] = 2.0;
    scores[name] = s;
  }
  f.report["comparisons"] = relmoe::headline_comparisons(
      f.report, [&](const std::string& v) { return relmoe::ScoredPairs{ids, markets, labels, scores.at(v)}; }, 100, 0);
  for (const auto& e : kExperts)
    f.report["experts"].push_back({{"name", e}, {"family", "qwen2"}, {"size", "hidden 128, 2 layers"},
                                   {"tokenizer", "spm-bpe:800"}, {"vocab", 800}, {"pretrain", "none"},
                                   {"parameters", 1.2e6}, {"train_seconds", 30.0}, {"embed_pairs_per_second", 900.0}});
  torch::manual_seed(1);
  for (const std::string variant : {"moe:hard:concat", "moe:hard:weighted"}) {
    relmoe::TsneOptions o;
    o.iterations = 300;
    const auto y = relmoe::tsne(torch::randn({250, 16}), o).y;
    relmoe::TsneMap m{variant, {}, {}, {}, 0.5};
    for (int i = 0; i < 250; ++i) {
      m.x.push_back(y[i][0].item<double>());
      m.y.push_back(y[i][1].item<double>());
      m.labels.push_back(i % 2);
    }
    f.maps.push_back(m);
  }
  return f;
}

struct XmlDoc {
  std::unique_ptr<xmlDoc, decltype(&xmlFreeDoc)> doc{nullptr, xmlFreeDoc};
  std::unique_ptr<xmlXPathContext, decltype(&xmlXPathFreeContext)> xpath{nullptr, xmlXPathFreeContext};

  explicit XmlDoc(const std::string& text) {
    doc.reset(xmlReadMemory(text.data(), static_cast<int>(text.size()), "report.html", "UTF-8",
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
    if (!doc) return;
    xpath.reset(xmlXPathNewContext(doc.get()));
    xmlXPathRegisterNs(xpath.get(), BAD_CAST "h", BAD_CAST "http://www.w3.org/1999/xhtml");
    xmlXPathRegisterNs(xpath.get(), BAD_CAST "s", BAD_CAST "http://www.w3.org/2000/svg");
  }
  std::vector<xmlNodePtr> nodes(const std::string& expr, xmlNodePtr context = nullptr) const {
    xpath->node = context ? context : xmlDocGetRootElement(doc.get());
    std::unique_ptr<xmlXPathObject, decltype(&xmlXPathFreeObject)> r(
        xmlXPathEvalExpression(BAD_CAST expr.c_str(), xpath.get()), xmlXPathFreeObject);
    std::vector<xmlNodePtr> out;
    if (r && r->nodesetval)
      for (int i = 0; i < r->nodesetval->nodeNr; ++i) out.push_back(r->nodesetval->nodeTab[i]);
    return out;
  }
  static std::string text(xmlNodePtr n) {
    std::unique_ptr<xmlChar, decltype(xmlFree)> t(xmlNodeGetContent(n), xmlFree);
    return t ? reinterpret_cast<const char*>(t.get()) : "";
  }
  static std::string attr(xmlNodePtr n, const char* name) {
    std::unique_ptr<xmlChar, decltype(xmlFree)> t(xmlGetProp(n, BAD_CAST name), xmlFree);
    return t ? reinterpret_cast<const char*>(t.get()) : "";
  }
};

}  // namespace

TEST(ReportHtml, WellFormedSelfContainedWithEveryVariantAndChart) {
  const auto f = make_fixture();
  const auto html = relmoe::render_report_html(f.report, f.maps);
  const XmlDoc xml(html);
  ASSERT_TRUE(xml.doc) << "report.html is not well-formed XML";
  // Self-contained: no scripts, no external resources.
  EXPECT_TRUE(xml.nodes("//h:script | //*[@src] | //*[@href] | //h:link | //h:iframe").empty());
  EXPECT_EQ(XmlDoc::text(xml.nodes("/h:html/h:head/h:title")[0]), "Synthetic <report>");

  // Table 1: one row per variant, in order, with a cell per market plus overall.
  const auto rows = xml.nodes("//h:table[@id='table1']//h:tr[@data-variant]");
  ASSERT_EQ(rows.size(), contract_variants().size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(XmlDoc::attr(rows[i], "data-variant"), contract_variants()[i]);
    const auto cells = xml.nodes("h:td", rows[i]);
    ASSERT_EQ(cells.size(), 1 + 1 + kMarkets.size() + 4);  // + active experts, cost, d, train s
    const double cost = f.report["variants"][contract_variants()[i]]["mean_cost_s"].get<double>();
    EXPECT_EQ(XmlDoc::text(cells[cells.size() - 3]), relmoe::svg::num(1e3 * cost, 3)) << contract_variants()[i];
  }
  // Highlighted cells: in every column exactly the variants with the column's best AUC.
  const auto& variants = f.report["variants"];
  for (std::size_t c = 0; c <= kMarkets.size(); ++c) {
    double best = -1;
    for (const auto& [name, v] : variants.items())
      best = std::max(best, (c == 0 ? v["overall"] : v["markets"][kMarkets[c - 1]])["auc"].get<double>());
    for (const auto& row : rows) {
      const auto& v = variants[XmlDoc::attr(row, "data-variant")];
      const double auc = (c == 0 ? v["overall"] : v["markets"][kMarkets[c - 1]])["auc"].get<double>();
      const auto cell = xml.nodes("h:td", row)[1 + c];
      EXPECT_EQ(XmlDoc::attr(cell, "class") == "best", auc == best) << XmlDoc::attr(row, "data-variant") << " column " << c;
      EXPECT_NE(XmlDoc::attr(cell, "title").find("95% CI"), std::string::npos);
      EXPECT_EQ(XmlDoc::text(cell), relmoe::svg::num(100 * auc, 2));
    }
  }
  // The escaped market name comes back intact as a column header.
  const auto headers = xml.nodes("//h:table[@id='table1']//h:th");
  EXPECT_TRUE(std::any_of(headers.begin(), headers.end(), [](auto h) { return XmlDoc::text(h) == kMarkets[2]; }));

  // Charts: radar (a polygon and a marker per expert and market), two t-SNE scatters (a circle
  // per point), usage bars (a segment per market and expert).
  const auto svgs = xml.nodes("//s:svg");
  ASSERT_EQ(svgs.size(), 5u);
  // Figure 4: a point per variant on the cost axis, the frontier labelled.
  EXPECT_EQ(xml.nodes("//h:figure[@id='figure4']//s:circle").size(), contract_variants().size());
  EXPECT_FALSE(xml.nodes("//h:figure[@id='figure4']//s:circle[@fill='" + relmoe::svg::colour(0) + "']").empty());
  EXPECT_EQ(xml.nodes("//h:figure[@id='figure1']//s:polygon[s:title]").size(), kExperts.size());
  EXPECT_EQ(xml.nodes("//h:figure[@id='figure1']//s:circle").size(), kExperts.size() * kMarkets.size());
  const auto scatters = xml.nodes("//h:div[@id='figure3']//s:svg");
  ASSERT_EQ(scatters.size(), 2u);
  for (auto s : scatters) EXPECT_EQ(xml.nodes(".//s:circle", s).size(), 250u);
  EXPECT_EQ(xml.nodes("//h:figure[@id='usage']//s:rect[s:title]").size(), kExperts.size() * kMarkets.size());

  // The outcome names the comparison and the paired interval.
  const auto outcome = XmlDoc::text(xml.nodes("//h:div[@id='outcome']")[0]);
  EXPECT_NE(outcome.find("moe:hard:concat − " + f.report["comparisons"]["best_single"].get<std::string>()),
            std::string::npos);
  EXPECT_NE(outcome.find("moe:hard:concat − moe:hard:weighted"), std::string::npos);
  EXPECT_EQ(xml.nodes("//h:table[@id='experts']//h:tbody/h:tr").size(), kExperts.size());
  // Figure 1's spread table: one row per market, best minus worst expert with its interval.
  EXPECT_EQ(xml.nodes("//h:table[@id='spread']//h:tbody/h:tr").size(), kMarkets.size());
}

TEST(ReportHtml, OptionalPartsMayBeAbsent) {
  // Only the eval-report contract: no order, comparisons, experts, stages or maps.
  auto f = make_fixture();
  nlohmann::json bare = {{"variants", {{"probe:a", f.report["variants"]["probe:a"]}}}};
  const XmlDoc xml(relmoe::render_report_html(bare, {}));
  ASSERT_TRUE(xml.doc);
  EXPECT_EQ(xml.nodes("//h:tr[@data-variant]").size(), 1u);
  EXPECT_EQ(xml.nodes("//s:svg").size(), 2u);  // the radar of the one probe and its point on the cost axis
}

namespace {

struct Image {
  int width = 0, height = 0;
  std::vector<std::uint8_t> rgba;
};

Image read_png(const fs::path& path) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  Image out;
  if (!png_image_begin_read_from_file(&image, path.c_str())) return out;
  image.format = PNG_FORMAT_RGBA;
  out.rgba.resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, out.rgba.data(), 0, nullptr)) return {};
  out.width = static_cast<int>(image.width);
  out.height = static_cast<int>(image.height);
  return out;
}

// Pixels within a small tolerance of the first two chart colours (expert / class 0 and 1) in the
// rectangle [x0, x1) x [y0, y1) (the whole image by default).
std::size_t chart_pixels(const Image& img, int x0 = 0, int y0 = 0, int x1 = 1 << 30, int y1 = 1 << 30) {
  const int palette[2][3] = {{0x4e, 0x79, 0xa7}, {0xf2, 0x8e, 0x2b}};
  std::size_t n = 0;
  for (int y = y0; y < std::min(y1, img.height); ++y)
    for (int x = x0; x < std::min(x1, img.width); ++x) {
      const auto* p = &img.rgba[4 * (static_cast<std::size_t>(y) * img.width + x)];
      for (const auto& c : palette)
        if (std::abs(p[0] - c[0]) <= 6 && std::abs(p[1] - c[1]) <= 6 && std::abs(p[2] - c[2]) <= 6) ++n;
    }
  return n;
}

std::vector<std::string> svg_elements(const std::string& html) {
  std::vector<std::string> out;
  for (std::size_t at = 0; (at = html.find("<svg", at)) != std::string::npos;) {
    const auto end = html.find("</svg>", at) + 6;
    out.push_back(html.substr(at, end - at));
    at = end;
  }
  return out;
}

Image screenshot(const std::string& html, const fs::path& dir, const std::string& name, int width, int height) {
  const auto page = dir / (name + ".html"), png = dir / (name + ".png");
  std::ofstream(page) << html;
  const std::string cmd = "timeout 120 /usr/bin/chromium --headless --no-sandbox --disable-gpu --hide-scrollbars "
                          "--user-data-dir=" + (dir / "profile").string() + " --screenshot=" + png.string() +
                          " --window-size=" + std::to_string(width) + "," + std::to_string(height) + " file://" +
                          page.string() + " > " + (dir / "chromium.log").string() + " 2>&1";
  if (std::system(cmd.c_str()) != 0) return {};
  return read_png(png);
}

}  // namespace

TEST(ReportHtml, ChartsRenderInHeadlessChromium) {
  if (!fs::exists("/usr/bin/chromium"))
    GTEST_SKIP() << "/usr/bin/chromium not installed (Debian package chromium; scripts/setup.sh installs it)";
  const auto dir = relmoe::test::scratch_dir() / "relmoe_report_html_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto f = make_fixture();
  const auto html = relmoe::render_report_html(f.report, f.maps);
  std::string without_charts = html;
  for (std::size_t at; (at = without_charts.find("<svg")) != std::string::npos;)
    without_charts.erase(at, without_charts.find("</svg>", at) + 6 - at);

  // The whole page: the chart colours come from the SVGs only.
  const auto with = screenshot(html, dir, "with", 1280, 4000), without = screenshot(without_charts, dir, "without", 1280, 4000);
  ASSERT_EQ(with.width, 1280) << "no screenshot; see " << (dir / "chromium.log");
  ASSERT_EQ(without.width, 1280);
  EXPECT_GT(chart_pixels(with), 20000u) << "charts did not render";
  EXPECT_LT(chart_pixels(without), 100u);

  // Each chart on its own: the page's five SVGs placed in the cells of a 2 x 3 grid, and every
  // cell must show its chart (radar lines and markers, t-SNE points, usage bars, cost curve).
  const auto svgs = svg_elements(html);
  ASSERT_EQ(svgs.size(), 5u);
  const int cell_w = 760, cell_h = 700;
  std::string grid = "<!DOCTYPE html><html><body style=\"margin:0\">";
  for (std::size_t i = 0; i < svgs.size(); ++i)
    grid += "<div style=\"position:absolute; left:" + std::to_string(cell_w * (i % 2)) + "px; top:" +
            std::to_string(cell_h * (i / 2)) + "px\">" + svgs[i] + "</div>";
  const auto cells = screenshot(grid + "</body></html>", dir, "grid", 2 * cell_w, 3 * cell_h);
  ASSERT_EQ(cells.width, 2 * cell_w);
  // Minimum pixels per chart: the radar's 2.5 px outlines and markers (~770 here), 250 t-SNE
  // points (~3600), the usage bars (~20000), the cost curve's frontier; an empty cell has none.
  const struct { const char* name; std::size_t min; } charts[] = {
      {"radar", 300}, {"t-SNE concat", 1500}, {"t-SNE weighted", 1500}, {"cost curve", 60}, {"usage bars", 5000}};
  for (int i = 0; i < 5; ++i) {
    const int x = cell_w * (i % 2), y = cell_h * (i / 2);
    EXPECT_GT(chart_pixels(cells, x, y, x + cell_w, y + cell_h), charts[i].min) << charts[i].name << " did not render";
  }
  fs::remove_all(dir);
}
