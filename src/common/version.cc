#include "tpufleet/version.h"

namespace tpufleet {

const char* LibraryVersion() { return TPUFLEET_VERSION; }

}  // namespace tpufleet
