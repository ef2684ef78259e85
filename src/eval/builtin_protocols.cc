#include "eval/builtin_protocols.h"

#include <memory>

#include "eval/sequential.h"

namespace souk::eval {

Status RegisterBuiltinProtocols(ProtocolRegistry& registry) {
  // B: sequential recommendation (Amazon S3-Rec format). Recommendation models
  // join as variants: protocol->AddModel("name", factory) before registering.
  auto amazon_seq = std::make_unique<AmazonSeqProtocol>();
  RETURN_IF_ERROR(registry.Register(std::move(amazon_seq)));

  // Protocols of EVAL.md that later issues implement (no numbers until then).
  RETURN_IF_ERROR(
      registry.DeclarePlanned(kTaskSearch, "homedepot", "issue #3, Search; EVAL.md A"));
  RETURN_IF_ERROR(registry.DeclarePlanned(
      kTaskRec, "amazon-unisrec", "issue #5, Recommendation; EVAL.md C"));
  RETURN_IF_ERROR(registry.DeclarePlanned(kTaskRec, "online-retail",
                                          "issues #5 and #6, Recommendation and Intent; EVAL.md F"));
  RETURN_IF_ERROR(
      registry.DeclarePlanned(kTaskIntent, "rees46", "issue #6, Purchase intent; EVAL.md D"));
  RETURN_IF_ERROR(registry.DeclarePlanned(kTaskIntent, "online-shoppers",
                                          "issue #6, Purchase intent; EVAL.md D"));
  RETURN_IF_ERROR(registry.DeclarePlanned(kTaskNer, "cn-ner",
                                          "issue #3, Search (query understanding); EVAL.md E"));
  return OkStatus();
}

}  // namespace souk::eval
