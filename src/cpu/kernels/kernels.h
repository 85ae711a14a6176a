// Factories of every kernel; the registry maps operator codes to them.
#pragma once

#include <memory>

#include "cpu/kernel.h"

namespace tpufleet::cpu {

std::unique_ptr<Kernel> MakeConv2D();
std::unique_ptr<Kernel> MakeDepthwiseConv2D();
std::unique_ptr<Kernel> MakeFullyConnected();
std::unique_ptr<Kernel> MakeAdd();
std::unique_ptr<Kernel> MakeSub();
std::unique_ptr<Kernel> MakeMul();
std::unique_ptr<Kernel> MakeAveragePool2D();
std::unique_ptr<Kernel> MakeMaxPool2D();
std::unique_ptr<Kernel> MakeMean();
std::unique_ptr<Kernel> MakeReshape();
std::unique_ptr<Kernel> MakeSoftmax();
std::unique_ptr<Kernel> MakeLogistic();
std::unique_ptr<Kernel> MakeTanh();
std::unique_ptr<Kernel> MakeRelu();
std::unique_ptr<Kernel> MakeRelu6();
std::unique_ptr<Kernel> MakeHardSwish();
std::unique_ptr<Kernel> MakeConcatenation();
std::unique_ptr<Kernel> MakePad();
std::unique_ptr<Kernel> MakeQuantize();
std::unique_ptr<Kernel> MakeDequantize();
std::unique_ptr<Kernel> MakeResizeBilinear();
std::unique_ptr<Kernel> MakeResizeNearestNeighbor();
std::unique_ptr<Kernel> MakeArgMax();
std::unique_ptr<Kernel> MakeStridedSlice();
std::unique_ptr<Kernel> MakeTranspose();
std::unique_ptr<Kernel> MakeDetectionPostProcess();

}  // namespace tpufleet::cpu
