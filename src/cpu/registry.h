// The table of operators the CPU backend runs.
#pragma once

#include <string>
#include <vector>

#include "cpu/kernel.h"

namespace tpufleet::cpu {

// The factory for a builtin operator code or custom operator name; nullptr when unsupported.
KernelFactory FindKernel(int32_t builtin_code, const std::string& custom_name);

// Names of every supported operator, sorted.
std::vector<std::string> SupportedOperators();

}  // namespace tpufleet::cpu
