#include "eval/rec_protocols.h"

#include "eval/online_retail_protocol.h"
#include "eval/unisrec_protocol.h"

namespace souk::eval {

Status AddRecProtocols(ProtocolRegistry& registry) {
  auto sources = std::make_shared<recommend::SourceRegistry>();
  RETURN_IF_ERROR(recommend::RegisterBuiltinSources(*sources));
  return AddRecProtocols(registry, std::move(sources));
}

Status AddRecProtocols(ProtocolRegistry& registry,
                       std::shared_ptr<const recommend::SourceRegistry> sources) {
  RETURN_IF_ERROR(registry.Register(std::make_unique<UnisrecProtocol>(sources)));
  RETURN_IF_ERROR(registry.Register(std::make_unique<OnlineRetailProtocol>(sources)));
  return OkStatus();
}

}  // namespace souk::eval
