// The protocols of this build. `souk eval` (src/app/cmd_eval.cc) creates a
// ProtocolRegistry and calls RegisterBuiltinProtocols once at start-up; there is
// no static registration. To add a protocol, implement EvalProtocol and add one
// Register line (replacing its DeclarePlanned line) in builtin_protocols.cc.
#pragma once

#include "common/status.h"
#include "eval/protocol.h"

namespace souk::eval {

// Registers the implemented protocols and declares the planned ones of
// ../shared/EVAL.md. Errors only on a programming mistake (duplicate name).
Status RegisterBuiltinProtocols(ProtocolRegistry& registry);

}  // namespace souk::eval
