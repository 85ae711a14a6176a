// The version of the tpufleet library a program runs against.
#pragma once

namespace tpufleet {

// "MAJOR.MINOR.PATCH" of the libtpufleet in use (the CMake package and the pkg-config file carry
// the same version). Thread-safe; the string is static.
const char* LibraryVersion();

}  // namespace tpufleet
