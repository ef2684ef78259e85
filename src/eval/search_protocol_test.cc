#include "eval/search_protocol.h"

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "common/testing.h"

namespace souk::eval {
namespace {

std::string Write(const std::filesystem::path& dir, const std::string& name,
                  const std::string& text) {
  std::ofstream(dir / name) << text;
  return (dir / name).string();
}

// A small catalog where the query words pick out the right products, so a
// correct pipeline scores far above chance.
struct Fixture {
  std::string products, judgments;
  explicit Fixture(const std::filesystem::path& dir) {
    std::string p = "product_uid,title\n";
    const char* kinds[] = {"hammer", "drill", "ladder", "faucet", "shovel", "lamp", "paint", "saw"};
    const char* brands[] = {"Ryobi", "DeWalt", "Werner", "Moen", "Ames", "Hampton", "Behr", "Makita"};
    const char* adjs[] = {"steel", "cordless", "aluminum", "chrome", "wood", "led", "white", "compact"};
    int id = 1000;
    for (int k = 0; k < 8; ++k) {
      for (int b = 0; b < 8; ++b) {
        for (int a = 0; a < 3; ++a) {
          p += fmt::format("{},{} {} {} model {}\n", id++, brands[b], adjs[(k + a) % 8], kinds[k], a);
        }
      }
    }
    products = Write(dir, "products.csv", p);
    std::string j = "query,product_uid,relevance\n";
    id = 1000;
    for (int k = 0; k < 8; ++k) {
      for (int b = 0; b < 8; ++b) {
        for (int a = 0; a < 3; ++a, ++id) {
          // Query "<brand> <kind>": the brand's kind products are relevant (3),
          // another brand's product of the kind is partly relevant (2), a
          // different kind of the same brand is irrelevant (1).
          if (a == 0) {
            const std::string q = fmt::format("{} {}", brands[b], kinds[k]);
            j += fmt::format("{},{},3\n", q, id);
            j += fmt::format("{},{},3\n", q, id + 1);
            j += fmt::format("{},{},2\n", q, 1000 + k * 24 + ((b + 1) % 8) * 3);
            j += fmt::format("{},{},1\n", q, 1000 + ((k + 1) % 8) * 24 + b * 3);
          }
        }
      }
    }
    judgments = Write(dir, "judgments.csv", j);
  }
};

TEST(HomeDepotSearchProtocolTest, ScoresASmallCatalogThroughThePipeline) {
  const auto dir = testing::TempDir("hd-proto");
  Fixture fx(dir);
  HomeDepotSearchProtocol p;
  p.options().encoder_epochs = 2;
  p.options().encoder_dim = 32;
  p.options().ltr_rounds = 30;
  p.options().threads = 1;
  EvalContext ctx;
  ctx.inputs.products = fx.products;
  ctx.inputs.judgments = fx.judgments;
  ctx.progress.mode = ProgressMode::kOff;
  auto r = p.Run(ctx);
  ASSERT_OK(r.status());
  const auto& m = r->metrics;
  for (const char* key : {"full_ndcg@10", "full_recall@100", "rerank_ndcg@10", "rmse",
                          "n_queries_ndcg", "n_queries_recall"}) {
    EXPECT_TRUE(m.count(key)) << key;
  }
  EXPECT_EQ(m.at("n_queries_ndcg"), 64);
  // BM25 alone already finds brand+kind products; the whole pipeline must too.
  EXPECT_GT(r->ablations.at("bm25").at("full_ndcg@10"), 0.6);
  EXPECT_GT(m.at("full_ndcg@10"), 0.6);
  EXPECT_GT(m.at("full_recall@100"), 0.95);
  EXPECT_LT(m.at("rmse"), 0.9);
  for (const char* a : {"bm25", "bm25+qu", "dense", "hybrid", "hybrid+ltr"}) {
    EXPECT_TRUE(r->ablations.count(a)) << a;
  }
}

TEST(HomeDepotSearchProtocolTest, BadInputsAreClearErrors) {
  const auto dir = testing::TempDir("hd-proto-bad");
  Fixture fx(dir);
  HomeDepotSearchProtocol p;
  EvalContext ctx;
  ctx.progress.mode = ProgressMode::kOff;
  ctx.inputs.products = fx.products;
  auto r = p.Run(ctx);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("--judgments"), std::string::npos);

  ctx.inputs.judgments = Write(dir, "bad.csv", "query,product_uid,relevance\nhammer,1000,7\n");
  p.options().dense = false;
  r = p.Run(ctx);
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("bad.csv:2"), std::string::npos) << r.status().message();

  ctx.inputs.judgments = Write(dir, "cols.csv", "q,id,rel\nhammer,1000,3\n");
  r = p.Run(ctx);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace souk::eval
