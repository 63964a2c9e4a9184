// `relmoe data synth`: synthetic multi-market relevance data.
// `relmoe data convert`: any TSV/CSV/JSONL pairs file -> the project's TSV schema.
#include "cli/command.hpp"
#include "base/stopwatch.hpp"
#include "cli/pair_input.hpp"
#include "io/pair_reader.hpp"
#include "io/pair_writer.hpp"
#include "synth/synth.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <map>

namespace relmoe::cli {
namespace {

struct SynthArgs {
  synth::Options options;
  std::string out;
};

struct ConvertArgs {
  std::string in, out;
  PairInput input;
};

int run_synth(const SynthArgs& args) {
  auto start = std::chrono::steady_clock::now();
  auto data = synth::generate(args.options);
  synth::write_dataset(data, args.out);
  double seconds = seconds_since(start);
  std::map<std::string, std::pair<std::size_t, std::size_t>> per_market;  // pairs, relevant
  for (const auto* split : {&data.train, &data.dev, &data.test})
    for (const auto& p : *split) {
      auto& [n, pos] = per_market[p.market];
      ++n;
      pos += p.label == 1.0f;
    }
  for (const auto& [market, counts] : per_market)
    spdlog::info("{}: {} pairs, {:.1f}% relevant", market, counts.first,
                 100.0 * static_cast<double>(counts.second) / static_cast<double>(counts.first));
  spdlog::info("wrote {}/{{train,dev,test}}.tsv ({} / {} / {} pairs) and corpus.txt ({} lines) in {:.2f} s",
               args.out, data.train.size(), data.dev.size(), data.test.size(), data.corpus.size(), seconds);
  return 0;
}

int run_convert(const ConvertArgs& args) {
  const auto pairs = args.input.read(args.in);
  write_pairs(args.out, pairs);
  spdlog::info("wrote {} pairs to {}", pairs.size(), args.out);
  return 0;
}

const Register command{{"data", "Generate or convert relevance data", [](CLI::App& sub) {
  sub.require_subcommand(1);
  auto synth_args = std::make_shared<SynthArgs>();
  auto* s = sub.add_subcommand("synth", "Synthetic multi-market relevance pairs + unlabelled corpus");
  s->add_option("--markets", synth_args->options.markets, "Number of markets (1-6)")->capture_default_str();
  s->add_option("--pairs", synth_args->options.pairs, "Labelled pairs over all splits")->capture_default_str();
  s->add_option("--seed", synth_args->options.seed, "Random seed")->capture_default_str();
  s->add_option("--second-hand", synth_args->options.second_hand,
                "Share of listings marked second-hand (irrelevant in the new-goods-only markets)")
      ->capture_default_str();
  s->add_option("--label-noise", synth_args->options.label_noise, "Probability of flipping a label")
      ->capture_default_str();
  s->add_option("--dev", synth_args->options.dev_fraction, "Fraction of queries in dev.tsv")->capture_default_str();
  s->add_option("--test", synth_args->options.test_fraction, "Fraction of queries in test.tsv")->capture_default_str();
  s->add_option("--corpus-lines", synth_args->options.corpus_lines, "Lines of corpus.txt (0: as many as pairs)")
      ->capture_default_str();
  s->add_option("--out", synth_args->out, "Output directory")->required();

  auto convert_args = std::make_shared<ConvertArgs>();
  auto* c = sub.add_subcommand("convert", "Read TSV/CSV/JSONL pairs, write the project's TSV schema");
  c->add_option("--in", convert_args->in, "Input file")->required();
  c->add_option("--out", convert_args->out, "Output .tsv")->required();
  convert_args->input.add(*c);

  return std::function<int()>([s, synth_args, convert_args] {
    return s->parsed() ? run_synth(*synth_args) : run_convert(*convert_args);
  });
}}};

}  // namespace
}  // namespace relmoe::cli
