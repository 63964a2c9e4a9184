// The ColBERT student: MaxSim against brute force, the encoder's save/load, distillation training
// (it learns a ranking; resume is exact), bad-ratio@K, the item index (reopen, resume, extend).
#include "base/error.hpp"
#include "base/hash.hpp"
#include "base/rng.hpp"
#include "eval/auc.hpp"
#include "eval/bad_ratio.hpp"
#include "student/candidate_mining.hpp"
#include "student/item_index.hpp"
#include "student/maxsim.hpp"
#include "student/pair_scoring.hpp"
#include "student/student_trainer.hpp"
#include "support.hpp"

#include <torch/utils.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <chrono>
#include <fstream>
#include <set>

namespace relmoe {
namespace {

namespace fs = std::filesystem;

const char* const kTinyBert = "reference/encoders/tiny-bert";

// Brute force: for each query token, the best dot product over the item's real tokens.
double maxsim_loop(const torch::Tensor& q, const torch::Tensor& d, std::int64_t length) {
  double total = 0;
  for (std::int64_t i = 0; i < q.size(0); ++i) {
    double best = -1e30;
    for (std::int64_t t = 0; t < length; ++t) best = std::max(best, q[i].dot(d[t]).item<double>());
    total += best;
  }
  return total;
}

TEST(MaxSim, BatchedPackedAndPairwiseAgreeWithBruteForce) {
  torch::manual_seed(3);
  const std::int64_t B = 3, M = 4, Lq = 5, Li = 7, dim = 8;
  const auto q = torch::randn({B, Lq, dim});
  const auto d = torch::randn({M, Li, dim});
  const std::vector<std::int64_t> lengths{7, 1, 4, 6};
  auto mask = torch::zeros({M, Li}, torch::kBool);
  for (std::int64_t m = 0; m < M; ++m) mask[m].narrow(0, 0, lengths[static_cast<std::size_t>(m)]).fill_(true);
  // Padded rows hold large values: they must never win a max.
  const auto padded = d.masked_fill(mask.logical_not().unsqueeze(-1), 100.0);
  const auto all = maxsim(q, padded, mask);
  std::vector<torch::Tensor> rows;
  for (std::int64_t m = 0; m < M; ++m) rows.push_back(d[m].narrow(0, 0, lengths[static_cast<std::size_t>(m)]));
  const auto packed_tokens = torch::cat(rows);
  for (std::int64_t b = 0; b < B; ++b) {
    const auto packed = maxsim_packed(q[b], packed_tokens, lengths);
    for (std::int64_t m = 0; m < M; ++m) {
      const double want = maxsim_loop(q[b], d[m], lengths[static_cast<std::size_t>(m)]);
      EXPECT_NEAR(all[b][m].item<double>(), want, 1e-4);
      EXPECT_NEAR(packed[static_cast<std::size_t>(m)], want, 1e-4);
    }
  }
  const auto pairs = maxsim_pairs(q, padded.narrow(0, 0, B), mask.narrow(0, 0, B));
  for (std::int64_t b = 0; b < B; ++b) EXPECT_NEAR(pairs[b].item<double>(), all[b][b].item<double>(), 1e-4);
  EXPECT_THROW(maxsim_packed(q[0], packed_tokens, {7, 1, 4}), Error);
}

TEST(BadRatio, CountsIrrelevantItemsInEachQuerysTopK) {
  // q1: top-2 by score are rows 1 (bad) and 0 (good) -> 0.5; q2: top-2 are good -> 0;
  // q3 has only 2 candidates, so it does not qualify for K = 2.
  const std::vector<std::string> groups{"q1", "q1", "q1", "q2", "q2", "q2", "q3", "q3"};
  const std::vector<double> scores{0.8, 0.9, 0.1, 0.7, 0.6, 0.5, 0.9, 0.8};
  const std::vector<float> labels{1, 0, 1, 1, 1, 0, 0, 0};
  const auto r = bad_ratio_at_k(groups, scores, labels, 2);
  EXPECT_EQ(r.queries, 2);
  EXPECT_DOUBLE_EQ(r.value, 0.25);
  const auto top1 = bad_ratio_at_k(groups, scores, labels, 1);
  EXPECT_EQ(top1.queries, 3);
  EXPECT_NEAR(top1.value, 2.0 / 3.0, 1e-12);  // q1's best is bad, q2's good, q3's bad
  const auto ci = bootstrap_mean_ci(top1.per_query, 200, 1);
  EXPECT_LE(ci.first, top1.value);
  EXPECT_GE(ci.second, top1.value);
}

TEST(Encoder, SavedRandomEncoderLoadsBackWithTheSameOutput) {
  EncoderConfig c;
  c.model_type = "xlm-roberta", c.vocab_size = 50, c.hidden_size = 16, c.intermediate_size = 32;
  c.num_hidden_layers = 2, c.num_attention_heads = 2, c.max_position_embeddings = 20, c.pad_token_id = 1;
  c.type_vocab_size = 1;
  const auto encoder = Encoder::random(c, torch::kCPU, 5);
  const auto dir = test::scratch_dir() / "random-encoder";
  encoder.save(dir);
  const auto loaded = Encoder::load(dir, torch::kFloat32, torch::kCPU);
  const auto batch = make_encoder_batch({{{0, 5, 7, 9, 2}, {}}, {{0, 11, 2}, {}}}, 1, torch::kCPU);
  EXPECT_TRUE(torch::equal(encoder.forward(batch), loaded.forward(batch)));
  EXPECT_EQ(loaded.config().to_json(), c.to_json());
}

// Queries of two colour words; an item is relevant when it names the query's first colour.
std::vector<CandidateGroup> colour_groups(int count, std::uint64_t seed) {
  const std::vector<std::string> colours{"red", "blue", "green", "black", "white", "yellow", "brown", "pink"};
  const std::vector<std::string> things{"shoe", "shirt", "table", "chair", "lamp", "bag", "hat", "cup"};
  Rng rng(seed);
  std::vector<CandidateGroup> groups;
  for (int g = 0; g < count; ++g) {
    const auto colour = rng.below(colours.size());
    CandidateGroup group{"m", colours[colour] + " " + rng.pick(things) + " " + std::to_string(g), {}, {}};
    for (int i = 0; i < 6; ++i) {
      const bool good = i < 2;
      const auto c = good ? colour : rng.other_than(colour, colours.size());
      group.items.push_back(rng.pick(things) + " " + colours[c] + " " + rng.pick(things));
      group.targets.push_back(good ? 0.9f : 0.1f);
    }
    groups.push_back(group);
  }
  return groups;
}

StudentTrainOptions small_options(const fs::path& out) {
  StudentTrainOptions o;
  o.out = out;
  o.steps = 40, o.queries_per_batch = 8, o.group_size = 4, o.lr = 2e-3;
  o.eval_every = 10, o.checkpoint_every = 10, o.patience = 100, o.progress = false;
  return o;
}

StudentConfig small_config() {
  StudentConfig c;
  c.query_tokens = 12, c.item_tokens = 12, c.dim = 32;
  return c;
}

double pair_auc(const ColbertStudent& student, const std::vector<CandidateGroup>& groups) {
  std::vector<Pair> pairs;
  std::vector<float> labels;
  for (const auto& g : groups)
    for (std::size_t i = 0; i < g.items.size(); ++i) {
      pairs.push_back({"", g.market, "", g.query, g.items[i], "", g.targets[i] > 0.5f ? 1.0f : 0.0f, {}, ""});
      labels.push_back(*pairs.back().label);
    }
  return roc_auc(student_scores(student, pairs, 32, false), labels);
}

TEST(StudentTraining, DistillationLearnsTheTeachersRanking) {
  RELMOE_REQUIRE_SHARED(kTinyBert);
  const auto base = test::shared_dir() / kTinyBert;
  const auto groups = colour_groups(300, 1), held_out = colour_groups(60, 2);
  const auto before = pair_auc(ColbertStudent::from_base(base, small_config(), 1), held_out);
  auto o = small_options(test::scratch_dir() / "student-learns");
  o.steps = 150;
  const auto r = train_student([&] { return ColbertStudent::from_base(base, small_config(), 1); }, groups, o);
  ASSERT_TRUE(r.finished);
  const auto student = ColbertStudent::load(o.out);
  const auto after = pair_auc(student, held_out);
  EXPECT_GT(after, 0.9) << "before training: " << before;
  EXPECT_GT(after, before + 0.2);
  EXPECT_EQ(student.config().info["training"]["steps"], 150);
}

TEST(StudentTraining, ResumedRunEndsWithTheSameWeightsAsAnUninterruptedOne) {
  RELMOE_REQUIRE_SHARED(kTinyBert);
  const auto base = test::shared_dir() / kTinyBert;
  const auto groups = colour_groups(80, 3);
  auto make = [&] { return ColbertStudent::from_base(base, small_config(), 4); };
  auto whole = small_options(test::scratch_dir() / "student-whole");
  ASSERT_TRUE(train_student(make, groups, whole).finished);
  auto parts = small_options(test::scratch_dir() / "student-parts");
  parts.stop_after = 15;
  const auto first = train_student(make, groups, parts);
  EXPECT_FALSE(first.finished);
  parts.stop_after = 0;
  const auto second = train_student([]() -> ColbertStudent { throw std::logic_error("must resume"); }, groups, parts);
  EXPECT_TRUE(second.resumed);
  ASSERT_TRUE(second.finished);
  EXPECT_EQ(second.losses.size(), 25u);
  EXPECT_EQ(ColbertStudent::fingerprint(whole.out), ColbertStudent::fingerprint(parts.out));
}

// query_tokens beyond the encoder's positions are refused when the student is made (they used to
// be served, and then every request was a 500).
TEST(StudentConfig, TokensBeyondTheEncodersPositionsAreRefused) {
  RELMOE_REQUIRE_SHARED(kTinyBert);
  StudentConfig config = small_config();
  config.query_tokens = 200;  // tiny-bert has 128 positions
  try {
    ColbertStudent::from_base(test::shared_dir() / kTinyBert, config, 1);
    ADD_FAILURE() << "query_tokens 200 was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the encoder has 128"), std::string::npos) << e.what();
  }
  config.query_tokens = 128;
  EXPECT_NO_THROW(ColbertStudent::from_base(test::shared_dir() / kTinyBert, config, 1));
}

// An index records the student that built it: another tokenizer gives other token ids, so it is
// another student even with the same weights.
TEST(StudentFingerprint, CoversTheTokenizer) {
  RELMOE_REQUIRE_SHARED(kTinyBert);
  const auto dir = test::scratch_dir() / "fingerprinted-student";
  fs::remove_all(dir);
  ColbertStudent::from_base(test::shared_dir() / kTinyBert, small_config(), 1).save(dir);
  const auto before = ColbertStudent::fingerprint(dir);
  EXPECT_EQ(ColbertStudent::fingerprint(dir), before);
  for (const auto& entry : fs::directory_iterator(dir / "tokenizer")) {
    std::ofstream(entry.path(), std::ios::app) << "\n";
    break;
  }
  EXPECT_NE(ColbertStudent::fingerprint(dir), before);
}

// Only the first item_tokens tokens are kept, so a 10 MB text is cut before it is tokenised (a
// 200 MB body once held the model thread ~35 s): the same ids as its first 64 kB, at once.
TEST(StudentTokens, AHugeTextIsCutBeforeItIsTokenised) {
  RELMOE_REQUIRE_SHARED(kTinyBert);
  const auto student = ColbertStudent::from_base(test::shared_dir() / kTinyBert, small_config(), 1);
  std::string huge;
  while (huge.size() < (10u << 20)) huge += "red leather shoe size " + std::to_string(huge.size() % 97) + " ";
  const auto start = std::chrono::steady_clock::now();
  const auto ids = student.item_ids(huge);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 0.5);
  EXPECT_EQ(ids, student.item_ids(huge.substr(0, 64 << 10)));
  EXPECT_EQ(static_cast<std::int64_t>(ids.size()), small_config().item_tokens);
}

TEST(ItemIndex, ReopensResumesAndExtends) {
  RELMOE_REQUIRE_SHARED(kTinyBert);
  const auto student = ColbertStudent::from_base(test::shared_dir() / kTinyBert, small_config(), 1);
  const std::vector<std::pair<std::string, std::string>> items{
      {"a", "red shoe"}, {"b", "blue shirt with a long sleeve"}, {"c", "lamp"}, {"d", "green table and chair"}};
  const auto dir = test::scratch_dir() / "index";
  {  // an interrupted build: two items committed, a third added but never committed
    ItemIndexWriter writer(dir, 32, "s1");
    writer.add({"a", "b"}, student.encode_items({items[0].second, items[1].second}));
    writer.commit();
    writer.add({"c"}, student.encode_items({items[2].second}));
  }
  // Committed but not finished: resumed, never served.
  try {
    ItemIndex::open(dir);
    ADD_FAILURE() << "an unfinished index was opened";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("stopped before it finished (2 items committed)"), std::string::npos)
        << e.what();
  }
  const auto stats = build_item_index(student, "s1", items, dir, 2, 100, false);
  EXPECT_EQ(stats.added, 2);
  EXPECT_EQ(stats.skipped, 2);
  const auto index = ItemIndex::open(dir);
  ASSERT_EQ(index.size(), 4);
  torch::NoGradGuard no_grad;
  for (std::int64_t row = 0; row < 4; ++row) {
    const auto& [id, text] = items[static_cast<std::size_t>(row)];
    EXPECT_EQ(index.id(row), id);
    const auto v = student.encode_items({text});
    ASSERT_EQ(index.length(row), v.lengths[0]);
    const auto want = v.vectors[0].narrow(0, 0, v.lengths[0]).to(torch::kFloat16).to(torch::kFloat32);
    EXPECT_TRUE(torch::equal(index.gather({row}), want)) << id;
  }
  EXPECT_EQ(index.find("zzz"), -1);
  EXPECT_THROW(ItemIndexWriter(dir, 32, "another student"), Error);
  EXPECT_THROW(ItemIndexWriter(dir, 16, "s1"), Error);
}

// A damaged manifest or ids.txt is refused naming the field, or the file and line, before anything
// is allocated from it: a string dim, counts beyond any index, a lengths file far shorter than
// the manifest claims (it was a bare bad_alloc), and an id listed twice (one item was silently
// unreachable).
TEST(ItemIndex, DamagedManifestsAndDuplicateIdsAreRefusedNamingTheFieldOrLine) {
  RELMOE_REQUIRE_SHARED(kTinyBert);
  const auto student = ColbertStudent::from_base(test::shared_dir() / kTinyBert, small_config(), 1);
  const auto dir = test::scratch_dir() / "damaged_index";
  {
    ItemIndexWriter writer(dir, 32, "s1");
    writer.add({"a", "b"}, student.encode_items({"red shoe", "lamp"}));
    writer.commit(true);
    EXPECT_THROW(writer.add({"a"}, student.encode_items({"red shoe"})), Error);
  }
  ASSERT_EQ(ItemIndex::open(dir).size(), 2);
  std::ifstream in(dir / "manifest.json");
  const auto saved = nlohmann::json::parse(in);
  auto refused = [&](const std::string& field, const nlohmann::json& value, const std::string& named) {
    auto edited = saved;
    for (const auto& [key, v] : value.items()) edited[key] = v;
    std::ofstream(dir / "manifest.json") << edited.dump();
    for (int writer = 0; writer < 2; ++writer) {
      try {
        if (writer) ItemIndexWriter(dir, 32, "s1");
        else ItemIndex::open(dir);
        ADD_FAILURE() << field << ": " << value.dump() << " was accepted";
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(named), std::string::npos) << field << ": " << e.what();
      }
    }
  };
  refused("dim", {{"dim", "128"}}, "'dim'");
  refused("items", {{"items", 4e12}}, "'items'");
  refused("student", {{"student", 5}}, "'student'");
  refused("lengths", {{"items", 100000000000}, {"lengths_bytes", 400000000000}}, "lengths.i32");
  refused("format", {{"version", 1}}, "older relmoe");
  // Files edited behind the manifest's back: each named by its checksum, at open and at resume.
  auto refused_file = [&](const std::string& name, std::int64_t at, const std::string& bytes) {
    const auto path = dir / name;
    std::string original;
    {
      std::ifstream in(path, std::ios::binary);
      original.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    auto edited = original;
    edited.replace(static_cast<std::size_t>(at), bytes.size(), bytes);
    std::ofstream(path, std::ios::binary) << edited;
    EXPECT_THROW(ItemIndexWriter(dir, 32, "s1"), Error) << name;
    try {
      ItemIndex::open(dir);
      ADD_FAILURE() << name << " edited was opened";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(name + ": does not match the manifest's checksum"), std::string::npos)
          << e.what();
    }
    std::ofstream(path, std::ios::binary) << original;
  };
  std::ofstream(dir / "manifest.json") << saved.dump();
  refused_file("vectors.f16", 10, std::string(1, '\x7f'));  // one flipped byte
  std::string lengths;
  {
    std::ifstream in(dir / "lengths.i32", std::ios::binary);
    lengths.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  refused_file("lengths.i32", 0, lengths.substr(4, 4) + lengths.substr(0, 4));  // swapped, the same sum
  refused_file("ids.txt", 0, "a\na\n");  // a duplicate id, the same bytes
  // A duplicate id that the checksum covers (a faulty writer) is still refused, naming both lines.
  std::ofstream(dir / "ids.txt", std::ios::binary) << "a\na\n";
  auto consistent = saved;
  char checksum[17];
  std::snprintf(checksum, sizeof checksum, "%016llx", static_cast<unsigned long long>(hash64("a\na\n")));
  consistent["ids_checksum"] = checksum;
  std::ofstream(dir / "manifest.json") << consistent.dump();
  try {
    ItemIndex::open(dir);
    ADD_FAILURE() << "a duplicate id was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ids.txt:2"), std::string::npos) << e.what();
  }
}

TEST(CandidateGroups, TeacherScoresJoinByIdAndBadFilesNameTheLine) {
  const auto file = test::scratch_dir() / "teacher.tsv";
  std::ofstream(file) << "id\tscore\np1\t0.25\np2\t0.75\n";
  const auto teacher = read_teacher_scores(file, false);
  EXPECT_NEAR(read_teacher_scores(file, true).at("p2"), 1 / (1 + std::exp(-0.75)), 1e-12);  // logits
  const std::vector<Pair> pairs{{"p1", "m", "", "q", "x", "", {}, {}, ""}, {"p2", "m", "", "q", "y", "", {}, {}, ""}};
  const auto groups = group_candidates(pairs, &teacher, "pairs");
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].targets, (std::vector<float>{0.25f, 0.75f}));
  EXPECT_THROW(group_candidates(pairs, nullptr, "pairs"), Error);  // no labels
  std::ofstream(file) << "id\tscore\np1\t1.5\n";
  try {
    read_teacher_scores(file, false);
    FAIL() << "a probability outside [0, 1] was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("teacher.tsv:2"), std::string::npos) << e.what();
  }
}

TEST(CandidateMining, KeepsOwnPairsThenTheClosestItemsThenRandomInMarketOnes) {
  const std::vector<Pair> queries{{"q1", "en", "en", "red running shoes", "red running shoes", "", 1.0f, {}, ""},
                                  {"q2", "de", "de", "blaue lampe", "tisch", "", 0.0f, {}, ""}};
  std::vector<Item> items{{"a", "red running shoes", "en"}, {"b", "running shoes in red", "en"},
                          {"c", "garden hose", "en"},       {"d", "blaue lampe aus glas", "de"},
                          // Many shared trigrams, but a long title: similarity is normalised by length.
                          {"g", "long title of garden tools, hoses, sprinklers, running water pumps, shoe racks and "
                                "red paint for the red barn, shoes and running gear", "en"},
                          {"e", "tisch", "de"},             {"f", "stuhl", "de"}};
  for (int i = 0; i < 60; ++i) items.push_back({"x" + std::to_string(i), "zzz item " + std::to_string(i), "xx"});
  MiningOptions o;
  o.mined = 1, o.random = 1;
  const auto out = mine_candidates(queries, items, o);
  ASSERT_EQ(out.size(), 6u);
  EXPECT_EQ(out[0].id, "q1");                       // own pair first, label kept
  EXPECT_EQ(out[1].item, "running shoes in red");   // closest item that is not the own one
  EXPECT_FALSE(out[1].label.has_value());
  EXPECT_EQ(out[1].market, "en");
  EXPECT_EQ(out[2].market, "en");
  EXPECT_NE(out[2].item, out[1].item);  // a random English item not yet taken
  EXPECT_EQ(out[2].market, "en");
  EXPECT_EQ(out[3].id, "q2");
  EXPECT_EQ(out[4].item, "blaue lampe aus glas");
  EXPECT_EQ(out[5].item.rfind("zzz", 0), std::string::npos);  // random ones come from the query's market
  std::set<std::string> ids;
  for (const auto& p : out) EXPECT_TRUE(ids.insert(p.id).second) << p.id;
}

}  // namespace
}  // namespace relmoe
