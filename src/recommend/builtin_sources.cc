// RegisterBuiltinSources: the non-neural candidate sources of souk_recommend_sources.
#include <memory>

#include "recommend/buy_again_source.h"
#include "recommend/candidate_source.h"
#include "recommend/content_source.h"
#include "recommend/cooccurrence_source.h"
#include "recommend/ease_source.h"
#include "recommend/fbt_source.h"
#include "recommend/popular_source.h"

namespace souk::recommend {
namespace {

// A factory parsing `Options` from JSON and constructing `Source` with them.
template <typename Source, typename Options>
SourceRegistry::Factory FactoryOf() {
  return [](const nlohmann::json& json) -> StatusOr<std::unique_ptr<CandidateSource>> {
    ASSIGN_OR_RETURN(Options options, Options::FromJson(json));
    return std::unique_ptr<CandidateSource>(std::make_unique<Source>(std::move(options)));
  };
}

}  // namespace

Status RegisterBuiltinSources(SourceRegistry& registry) {
  RETURN_IF_ERROR(registry.Register(PopularSource::kName, FactoryOf<PopularSource, PopularOptions>()));
  RETURN_IF_ERROR(
      registry.Register(TrendingSource::kName, FactoryOf<TrendingSource, TrendingOptions>()));
  RETURN_IF_ERROR(registry.Register(CooccurrenceSource::kName,
                                    FactoryOf<CooccurrenceSource, CooccurrenceOptions>()));
  RETURN_IF_ERROR(registry.Register(EaseSource::kName, FactoryOf<EaseSource, EaseOptions>()));
  RETURN_IF_ERROR(registry.Register(FbtSource::kName, FactoryOf<FbtSource, FbtOptions>()));
  RETURN_IF_ERROR(
      registry.Register(BuyAgainSource::kName, FactoryOf<BuyAgainSource, BuyAgainOptions>()));
  // Without an encoder the content source trains a SubwordEncoder at Fit; use
  // MakeContentSource(encoder, options) to give it one.
  RETURN_IF_ERROR(registry.Register(
      ContentSource::kName,
      [](const nlohmann::json& json) -> StatusOr<std::unique_ptr<CandidateSource>> {
        ASSIGN_OR_RETURN(ContentOptions options, ContentOptions::FromJson(json));
        return std::unique_ptr<CandidateSource>(MakeContentSource(nullptr, std::move(options)));
      }));
  return OkStatus();
}

}  // namespace souk::recommend
