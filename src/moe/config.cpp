#include "moe/config.hpp"

#include "base/error.hpp"
#include "io/json_file.hpp"

#include <algorithm>
#include <set>

namespace relmoe {

namespace {
template <typename E, std::size_t N>
E parse_enum(const std::string& s, const char* what, const std::array<std::pair<const char*, E>, N>& table) {
  std::string options;
  for (const auto& [text, value] : table) {
    if (s == text) return value;
    options += (options.empty() ? "" : ", ") + std::string(text);
  }
  fail(what, "'" + s + "' is not one of " + options);
}

template <typename E, std::size_t N>
std::string enum_name(E e, const std::array<std::pair<const char*, E>, N>& table) {
  for (const auto& [text, value] : table)
    if (value == e) return text;
  return "?";
}

constexpr std::array<std::pair<const char*, Routing>, 5> kRouting{{{"rule", Routing::rule},
                                                                   {"pseudo", Routing::pseudo},
                                                                   {"soft", Routing::soft},
                                                                   {"hard", Routing::hard},
                                                                   {"full", Routing::full}}};
constexpr std::array<std::pair<const char*, Fusion>, 2> kFusion{{{"concat", Fusion::concat}, {"weighted", Fusion::weighted}}};
constexpr std::array<std::pair<const char*, Classifier>, 2> kClassifier{
    {{"linear", Classifier::linear}, {"mlp", Classifier::mlp}}};
}  // namespace

Routing parse_routing(const std::string& s) { return parse_enum(s, "--routing", kRouting); }
Fusion parse_fusion(const std::string& s) { return parse_enum(s, "--fusion", kFusion); }
Classifier parse_classifier(const std::string& s) { return parse_enum(s, "--classifier", kClassifier); }
std::string name(Routing r) { return enum_name(r, kRouting); }
std::string name(Fusion f) { return enum_name(f, kFusion); }
std::string name(Classifier c) { return enum_name(c, kClassifier); }

int MoeConfig::max_active() const {
  const auto s = static_cast<int>(shared.size());
  switch (routing) {
    case Routing::hard: return k + s;
    case Routing::rule:
    case Routing::pseudo: return 1 + s;
    default: return static_cast<int>(experts.size());
  }
}

std::int64_t MoeConfig::market_index(const std::string& market) const {
  auto it = std::lower_bound(markets.begin(), markets.end(), market);
  if (it != markets.end() && *it == market) return it - markets.begin();
  std::string known;
  for (const auto& m : markets) known += (known.empty() ? "" : ", ") + m;
  fail("market '" + market + "'", "was not seen in training (the model knows: " + known + ")");
}

bool MoeConfig::has_costs() const {
  return costs.size() == experts.size() && std::all_of(costs.begin(), costs.end(), [](double c) { return c > 0; });
}

bool MoeConfig::is_shared(std::int64_t e) const {
  return std::find(shared.begin(), shared.end(), experts[static_cast<std::size_t>(e)]) != shared.end();
}

std::vector<std::int64_t> MoeConfig::margin_indices() const {
  std::vector<std::int64_t> out;
  for (std::int64_t e = 0; e < num_experts(); ++e)
    if (std::find(margin.begin(), margin.end(), experts[static_cast<std::size_t>(e)]) != margin.end()) out.push_back(e);
  return out;
}

std::int64_t MoeConfig::num_routed() const { return num_experts() - static_cast<std::int64_t>(shared.size()); }

void MoeConfig::resolve_widths() {
  if (dim == 0 && !widths.empty()) dim = std::min<std::int64_t>(256, *std::max_element(widths.begin(), widths.end()));
  if (hidden == 0) hidden = dim;
}

void MoeConfig::validate() const {
  if (experts.empty()) fail("model config", "no experts");
  if (widths.size() != experts.size()) fail("model config", "experts and widths differ in length");
  for (const auto* list : {&shared, &margin})
    for (const auto& e : *list)
      if (std::find(experts.begin(), experts.end(), e) == experts.end())
        fail(list == &shared ? "--shared" : "--margin", "'" + e + "' is not one of the model's experts");
  if (!market_residual.empty() && margin.empty()) fail("model config", "a per-market residual needs a margin expert");
  for (const auto& [market, factor] : market_residual)
    if (!(factor >= 0 && factor <= 1)) fail("market_residual '" + market + "'", "must be in [0, 1]");
  if (std::set<std::string>(shared.begin(), shared.end()).size() != shared.size())
    fail("--shared", "names an expert twice");
  if (uses_router() && num_routed() < 1) fail("--shared", "leaves no expert for the router to choose");
  if (routing == Routing::hard && (k < 1 || k > num_routed()))
    fail("--k", std::to_string(k) + " is not between 1 and the number of " +
                    (shared.empty() ? "experts (" : "routed experts, the shared ones aside (") +
                    std::to_string(num_routed()) + ")");
  if (dim < 1 || hidden < 1) fail("--dim", "projection and hidden widths must be positive");
  if (!(min_prob >= 0 && min_prob < 1)) fail("--min-prob", "must be in [0, 1)");
  if (!(dropout >= 0 && dropout < 1)) fail("--dropout", "must be in [0, 1)");
  if (!(budget >= 0)) fail("--budget", "must be a non-negative number of seconds per pair");
  if (!costs.empty() && costs.size() != experts.size()) fail("model config", "experts and costs differ in length");
  if (budget > 0 && !has_costs())
    fail("--budget", "needs every expert's measured cost per pair; the feature store has none for some expert "
                     "(rerun `relmoe embed` on it to measure them)");
  if (!std::is_sorted(markets.begin(), markets.end())) fail("model config", "market vocabulary must be sorted");
  for (const auto& [market, expert] : rule)
    if (std::find(experts.begin(), experts.end(), expert) == experts.end())
      fail("rule '" + market + "=" + expert + "'", "names an expert that is not in the model");
  if (routing == Routing::rule)
    for (const auto& m : markets)
      if (!rule.count(m)) fail("rule routing", "no expert for market '" + m + "'");
}

nlohmann::json to_json(const MoeConfig& c) {
  return {{"format", "relmoe-moe"},
          {"version", 1},
          {"experts", c.experts},
          {"widths", c.widths},
          {"routing", name(c.routing)},
          {"fusion", name(c.fusion)},
          {"classifier", name(c.classifier)},
          {"k", c.k},
          {"threshold", c.threshold},
          {"min_prob", c.min_prob},
          {"budget", c.budget},
          {"dim", c.dim},
          {"hidden", c.hidden},
          {"dropout", c.dropout},
          {"market_classifier", c.market_classifier},
          {"costs", c.costs},
          {"router_dim", c.router_dim},
          {"router_hidden", c.router_hidden},
          {"market_dim", c.market_dim},
          {"hashing",
           {{"buckets", c.hashing.buckets},
            {"min_n", c.hashing.min_n},
            {"max_n", c.hashing.max_n},
            {"max_chars", c.hashing.max_chars}}},
          {"markets", c.markets},
          {"rule", c.rule},
          {"shared", c.shared},
          {"margin", c.margin},
          {"market_residual", c.market_residual}};
}

MoeConfig config_from_json(const nlohmann::json& j, const std::string& where) {
  try {
    require_format(j, where, "relmoe-moe", 1);
    MoeConfig c;
    c.experts = j.at("experts").get<std::vector<std::string>>();
    c.widths = j.at("widths").get<std::vector<std::int64_t>>();
    c.routing = parse_routing(j.at("routing").get<std::string>());
    c.fusion = parse_fusion(j.at("fusion").get<std::string>());
    c.classifier = parse_classifier(j.at("classifier").get<std::string>());
    c.k = j.at("k").get<int>();
    c.threshold = j.at("threshold").get<double>();
    c.dim = j.at("dim").get<std::int64_t>();
    c.hidden = j.at("hidden").get<std::int64_t>();
    // Fields models written before cost-aware routing lack.
    c.min_prob = j.value("min_prob", 0.0);
    c.budget = j.value("budget", 0.0);
    c.dropout = j.value("dropout", 0.0);
    c.market_classifier = j.value("market_classifier", false);
    c.costs = j.value("costs", std::vector<double>{});
    c.shared = j.value("shared", std::vector<std::string>{});
    c.margin = j.value("margin", std::vector<std::string>{});
    c.market_residual = j.value("market_residual", std::map<std::string, double>{});
    c.router_dim = j.at("router_dim").get<std::int64_t>();
    c.router_hidden = j.at("router_hidden").get<std::int64_t>();
    c.market_dim = j.at("market_dim").get<std::int64_t>();
    const auto& h = j.at("hashing");
    c.hashing = {h.at("buckets").get<std::int64_t>(), h.at("min_n").get<int>(), h.at("max_n").get<int>(),
                 h.at("max_chars").get<int>()};
    c.markets = j.at("markets").get<std::vector<std::string>>();
    c.rule = j.at("rule").get<std::map<std::string, std::string>>();
    c.validate();
    return c;
  } catch (const nlohmann::json::exception& e) {
    fail(where, std::string("missing or mistyped field: ") + e.what());
  } catch (const Error& e) {
    fail(where, e.what());
  }
}

}  // namespace relmoe
