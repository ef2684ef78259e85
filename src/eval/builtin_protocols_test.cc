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
  // Protocols of later issues are declared: asking for one says where it comes from.
  for (const auto& [task, name] : std::vector<std::pair<std::string, std::string>>{
           {"intent", "rees46"},
           {"intent", "online-shoppers"}}) {
    auto p = registry.Find(task, name);
    EXPECT_EQ(p.status().code(), StatusCode::kUnimplemented) << task << " " << name;
    EXPECT_NE(p.status().message().find("not available in this build yet"), std::string::npos);
  }
  EXPECT_EQ(registry.DefaultProtocol("ner"), "cn-ner");
  EXPECT_EQ(registry.DefaultProtocol("search"), "homedepot");
  EXPECT_EQ(registry.DefaultProtocol("rec"), "");
  // A second registration of the built-ins is a programming error that is reported.
  EXPECT_FALSE(RegisterBuiltinProtocols(registry).ok());
}

}  // namespace
}  // namespace souk::eval
