#include "eval/builtin_protocols.h"

#include <memory>

#include "eval/ner_protocol.h"
#if SOUK_HAVE_INTENT
#include "eval/intent_protocols.h"
#endif
#include "eval/rec_protocols.h"
#if SOUK_HAVE_SEQ_MODELS
#include "eval/seq_models.h"
#include "recommend/sasrec_source.h"
#endif
#include "recommend/candidate_source.h"
#include "eval/search_protocol.h"
#include "eval/sequential.h"

namespace souk::eval {

Status RegisterBuiltinProtocols(ProtocolRegistry& registry) {
  // B: sequential recommendation (Amazon S3-Rec format). Recommendation models
  // join as variants: protocol->AddModel("name", factory) before registering.
  auto amazon_seq = std::make_unique<AmazonSeqProtocol>();
#if SOUK_HAVE_SEQ_MODELS
  RETURN_IF_ERROR(AddSequenceModels(*amazon_seq));  // --seq-model sasrec
#endif
  RETURN_IF_ERROR(registry.Register(std::move(amazon_seq)));

  // Protocols of EVAL.md that later issues implement (no numbers until then).
  // A: product search (Home Depot), through the search/ pipeline.
  RETURN_IF_ERROR(registry.Register(std::make_unique<HomeDepotSearchProtocol>()));
  // C (Amazon Scientific, cold items) and F (Online Retail): blends of the
  // recommend/ candidate sources.
  auto sources = std::make_shared<recommend::SourceRegistry>();
  RETURN_IF_ERROR(recommend::RegisterBuiltinSources(*sources));
#if SOUK_HAVE_SEQ_MODELS
  RETURN_IF_ERROR(recommend::RegisterSasRecSource(*sources));
#endif
  RETURN_IF_ERROR(AddRecProtocols(registry, std::move(sources)));
  // D: purchase intent (rees46, online-shoppers, synthetic) with the rank/ intent models.
#if SOUK_HAVE_INTENT
  RETURN_IF_ERROR(AddIntentProtocols(registry));
#else
  RETURN_IF_ERROR(
      registry.DeclarePlanned(kTaskIntent, "rees46", "issue #6, Purchase intent; EVAL.md D"));
  RETURN_IF_ERROR(registry.DeclarePlanned(kTaskIntent, "online-shoppers",
                                          "issue #6, Purchase intent; EVAL.md D"));
#endif
  // E: Chinese attribute extraction with the search/ entity tagger.
  RETURN_IF_ERROR(registry.Register(std::make_unique<NerProtocol>()));
  return OkStatus();
}

}  // namespace souk::eval
