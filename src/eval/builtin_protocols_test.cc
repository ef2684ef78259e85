#include "eval/builtin_protocols.h"

#include "common/testing.h"

namespace souk::eval {
namespace {

TEST(BuiltinProtocolsTest, EveryEvalMdProtocolIsKnown) {
  ProtocolRegistry registry;
  ASSERT_OK(RegisterBuiltinProtocols(registry));
  for (const auto& [task, name] : std::vector<std::pair<std::string, std::string>>{
           {"rec", "amazon-seq"},
           {"rec", "amazon-unisrec"},
           {"rec", "online-retail"},
           {"search", "homedepot"},
           {"ner", "cn-ner"}}) {
    auto p = registry.Find(task, name);
    ASSERT_OK(p.status());
    EXPECT_EQ((*p)->Task(), task);
  }
  // Every protocol of EVAL.md D is implemented.
  for (const char* name : {"rees46", "online-shoppers", "synthetic"}) {
    auto p = registry.Find("intent", name);
    ASSERT_OK(p.status()) << name;
    EXPECT_EQ((*p)->Task(), "intent");
  }
  EXPECT_EQ(registry.DefaultProtocol("ner"), "cn-ner");
  EXPECT_EQ(registry.DefaultProtocol("search"), "homedepot");
  EXPECT_EQ(registry.DefaultProtocol("rec"), "");
  // A second registration of the built-ins is a programming error that is reported.
  EXPECT_FALSE(RegisterBuiltinProtocols(registry).ok());
}

}  // namespace
}  // namespace souk::eval
