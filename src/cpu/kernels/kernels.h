// Factories of every kernel; the registry maps operator codes to them.
#pragma once

#include <memory>

#include "cpu/kernel.h"

namespace tpufleet::cpu {

std::unique_ptr<Kernel> MakeConv2D();
std::unique_ptr<Kernel> MakeDepthwiseConv2D();
std::unique_ptr<Kernel> MakeFullyConnected();
std::unique_ptr<Kernel> MakeUnidirectionalSequenceLstm();
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
std::unique_ptr<Kernel> MakeCast();
std::unique_ptr<Kernel> MakeDiv();
std::unique_ptr<Kernel> MakeFloorDiv();
std::unique_ptr<Kernel> MakeFloorMod();
std::unique_ptr<Kernel> MakeMaximum();
std::unique_ptr<Kernel> MakeMinimum();
std::unique_ptr<Kernel> MakeSquaredDifference();
std::unique_ptr<Kernel> MakeSqrt();
std::unique_ptr<Kernel> MakeRsqrt();
std::unique_ptr<Kernel> MakeExp();
std::unique_ptr<Kernel> MakeLogSoftmax();
std::unique_ptr<Kernel> MakeL2Normalization();
std::unique_ptr<Kernel> MakeLeakyRelu();
std::unique_ptr<Kernel> MakePrelu();
std::unique_ptr<Kernel> MakeEqual();
std::unique_ptr<Kernel> MakeNotEqual();
std::unique_ptr<Kernel> MakeLess();
std::unique_ptr<Kernel> MakeLessEqual();
std::unique_ptr<Kernel> MakeGreater();
std::unique_ptr<Kernel> MakeGreaterEqual();
std::unique_ptr<Kernel> MakeSelect();
std::unique_ptr<Kernel> MakeSelectV2();
std::unique_ptr<Kernel> MakeSum();
std::unique_ptr<Kernel> MakeReduceMax();
std::unique_ptr<Kernel> MakeGather();
std::unique_ptr<Kernel> MakeGatherNd();
std::unique_ptr<Kernel> MakeSlice();
std::unique_ptr<Kernel> MakeTile();
std::unique_ptr<Kernel> MakeSplit();
std::unique_ptr<Kernel> MakeSplitV();
std::unique_ptr<Kernel> MakePack();
std::unique_ptr<Kernel> MakeUnpack();
std::unique_ptr<Kernel> MakeSpaceToBatchNd();
std::unique_ptr<Kernel> MakeBatchToSpaceNd();
std::unique_ptr<Kernel> MakeDepthToSpace();
std::unique_ptr<Kernel> MakeTransposeConv();
std::unique_ptr<Kernel> MakePosenetDecoder();

}  // namespace tpufleet::cpu
