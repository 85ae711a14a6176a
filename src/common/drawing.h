// Drawing on RGB images (Image with 3 channels): boxes, lines and dots clipped to the image,
// colour blending, and the colours that tell classes apart. Shapes partly or wholly outside the
// image draw what falls inside; images of another channel count are left unchanged.
#pragma once

#include <array>
#include <cstdint>

#include "common/image.h"

namespace tpufleet {

using Rgb = std::array<uint8_t, 3>;

// PASCAL VOC's colour map (DeepLab's create_pascal_label_colormap): 0 black, 1 maroon, 2 green,
// ... distinct for ids 0..255; ids outside repeat it.
Rgb ClassColor(int id);

// Pixel (x, y) mixed with `color`: (1 - alpha) * pixel + alpha * color, alpha in [0, 1].
void BlendPixel(Image& image, int x, int y, Rgb color, float alpha);
// The outline of the box from (x0, y0) to (x1, y1), `thickness` pixels wide, inside it.
void DrawRectangle(Image& image, float x0, float y0, float x1, float y1, Rgb color, int thickness);
// A line from (x0, y0) to (x1, y1), `thickness` pixels wide.
void DrawLine(Image& image, float x0, float y0, float x1, float y1, Rgb color, int thickness);
// A filled disc centred on (x, y).
void DrawDisc(Image& image, float x, float y, float radius, Rgb color);

}  // namespace tpufleet
