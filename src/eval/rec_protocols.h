// The recommendation protocols of EVAL.md implemented on the candidate sources
// of recommend/: C "amazon-unisrec" (unisrec_protocol.h) and F "online-retail"
// (online_retail_protocol.h). Protocol B ("amazon-seq") is registered by the
// frame itself (sequential.h).
#pragma once

#include <memory>

#include "common/status.h"
#include "eval/protocol.h"
#include "recommend/candidate_source.h"

namespace souk::eval {

// Registers "amazon-unisrec" and "online-retail" (task "rec") with a source
// registry filled by recommend::RegisterBuiltinSources. Errors: the
// registration errors (AlreadyExists on a second call).
Status AddRecProtocols(ProtocolRegistry& registry);
// The same with a caller-filled source registry (e.g. with "sasrec" added by
// RegisterSasRecSource: both protocols then blend it in).
Status AddRecProtocols(ProtocolRegistry& registry,
                       std::shared_ptr<const recommend::SourceRegistry> sources);

}  // namespace souk::eval
