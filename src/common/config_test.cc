#include "common/config.h"

#include <fstream>

#include "common/testing.h"

namespace souk {
namespace {

TEST(ConfigTest, DefaultsAreDeclaredAndDocumented) {
  Config c;
  EXPECT_EQ(c.GetInt("import.batch_size"), 20000);
  EXPECT_EQ(c.GetString("store.synchronous"), "full");
  for (const auto& k : ConfigSchema()) {
    EXPECT_FALSE(k.doc.empty()) << k.name;
    EXPECT_NE(k.name.find('.'), std::string_view::npos) << k.name;
  }
}

TEST(ConfigTest, FileThenOverrides) {
  auto dir = testing::TempDir("config");
  auto path = (dir / "souk.toml").string();
  std::ofstream(path) << "[import]\nbatch_size = 500\nunknown_item = \"quarantine\"\n"
                         "[quality]\noutlier_z = 4\n";
  auto c = Config::Load(path, {"import.batch_size=77"});
  ASSERT_OK(c);
  EXPECT_EQ(c->GetInt("import.batch_size"), 77);
  EXPECT_EQ(c->GetString("import.unknown_item"), "quarantine");
  EXPECT_DOUBLE_EQ(c->GetDouble("quality.outlier_z"), 4.0);
}

TEST(ConfigTest, ErrorsNameFileKeyAndLine) {
  auto dir = testing::TempDir("config");
  auto path = (dir / "bad.toml").string();
  std::ofstream(path) << "[import]\nbatch_size = 1\nbtach_size = 5\n";
  auto c = Config::Load(path, {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("bad.toml:3"), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find("import.btach_size"), std::string::npos);

  std::ofstream(path) << "[import]\nbatch_size = \"many\"\n";
  c = Config::Load(path, {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("expects an integer"), std::string::npos);

  std::ofstream(path) << "[import\nbatch_size = 1\n";
  c = Config::Load(path, {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("bad.toml:1"), std::string::npos) << c.status().message();

  EXPECT_FALSE(Config::Load("", {"import.batch_size=x"}).ok());
  EXPECT_FALSE(Config::Load("", {"nosuch.key=1"}).ok());
  EXPECT_FALSE(Config::Load("", {"noequals"}).ok());
}

TEST(ConfigTest, TomlRoundTrip) {
  Config c;
  ASSERT_OK(c.Set("generate.seed", "9"));
  auto dir = testing::TempDir("config");
  auto path = (dir / "rt.toml").string();
  std::ofstream(path) << c.ToToml();
  auto back = Config::Load(path, {});
  ASSERT_OK(back);
  EXPECT_EQ(back->ToToml(), c.ToToml());
  EXPECT_EQ(back->GetInt("generate.seed"), 9);
}

}  // namespace
}  // namespace souk

namespace souk {
namespace {

TEST(ConfigTest, NestedTablesAreDottedKeys) {
  auto path = testing::TempDir("config_nested") / "souk.toml";
  std::ofstream(path) << "[lm]\nencoder = \"bert\"\nfinetune.epochs = 7\n[lm.pretrain]\nlayers = 2\n";
  ASSERT_OK_AND_ASSIGN(Config c, Config::Load(path.string(), {}));
  EXPECT_EQ(c.GetString("lm.encoder"), "bert");
  EXPECT_EQ(c.GetInt("lm.finetune.epochs"), 7);
  EXPECT_EQ(c.GetInt("lm.pretrain.layers"), 2);
  std::ofstream(path) << "[lm.pretrain]\nnosuch = 1\n";
  auto bad = Config::Load(path.string(), {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("lm.pretrain.nosuch"), std::string::npos);
}

}  // namespace
}  // namespace souk
