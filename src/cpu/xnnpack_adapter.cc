#include "cpu/xnnpack_adapter.h"

#include <fmt/format.h>

#include <mutex>

namespace tpufleet::cpu::xnn {
namespace {

const char* StatusName(xnn_status status) {
  switch (status) {
    case xnn_status_success: return "success";
    case xnn_status_uninitialized: return "uninitialized";
    case xnn_status_invalid_parameter: return "invalid parameter";
    case xnn_status_invalid_state: return "invalid state";
    case xnn_status_unsupported_parameter: return "unsupported parameter";
    case xnn_status_unsupported_hardware: return "unsupported hardware";
    case xnn_status_out_of_memory: return "out of memory";
  }
  return "unknown status";
}

}  // namespace

Status Initialize() {
  static std::once_flag once;
  static xnn_status status = xnn_status_uninitialized;
  std::call_once(once, [] { status = xnn_initialize(nullptr); });
  return Check(status, "xnn_initialize");
}

Status Check(xnn_status status, const char* call) {
  if (status == xnn_status_success) return OkStatus();
  return InternalError(fmt::format("XNNPACK {} failed: {}", call, StatusName(status)));
}

}  // namespace tpufleet::cpu::xnn
