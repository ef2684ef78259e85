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
      registry.DeclarePlanned(kTaskSearch, "homedepot", "the product-search issue, EVAL.md A"));
  RETURN_IF_ERROR(registry.DeclarePlanned(
      kTaskRec, "amazon-unisrec", "the text-aware/cold-start recommendation issue, EVAL.md C"));
  RETURN_IF_ERROR(registry.DeclarePlanned(kTaskRec, "online-retail",
                                          "the next-period purchases/propensity issue, EVAL.md F"));
  RETURN_IF_ERROR(
      registry.DeclarePlanned(kTaskIntent, "rees46", "the purchase-intent issue, EVAL.md D"));
  RETURN_IF_ERROR(registry.DeclarePlanned(kTaskIntent, "online-shoppers",
                                          "the purchase-intent issue, EVAL.md D"));
  RETURN_IF_ERROR(registry.DeclarePlanned(kTaskNer, "cn-ner",
                                          "the Chinese attribute-extraction issue, EVAL.md E"));
  return OkStatus();
}

}  // namespace souk::eval
