#include "common/drawing.h"

#include <algorithm>
#include <cmath>

namespace tpufleet {
namespace {

// Pixel (x, y) set to `color` when it is inside an RGB image.
void PaintPixel(Image& image, int x, int y, Rgb color) { BlendPixel(image, x, y, color, 1.0f); }

// Coordinates far outside any image (or not numbers) as ints that stay outside it.
int DrawingCoordinate(float v) {
  if (std::isnan(v)) return -1;
  return static_cast<int>(std::lround(std::clamp(v, -1e6f, 1e6f)));
}

}  // namespace

Rgb ClassColor(int id) {
  int label = ((id % 256) + 256) % 256;
  Rgb color{0, 0, 0};
  for (int shift = 7; shift >= 0 && label > 0; --shift, label >>= 3) {
    for (int c = 0; c < 3; ++c) color[c] |= static_cast<uint8_t>(((label >> c) & 1) << shift);
  }
  return color;
}

void BlendPixel(Image& image, int x, int y, Rgb color, float alpha) {
  if (image.channels != 3 || x < 0 || y < 0 || x >= image.width || y >= image.height) return;
  alpha = std::clamp(alpha, 0.0f, 1.0f);
  uint8_t* p = &image.pixels[(static_cast<size_t>(y) * image.width + x) * 3];
  for (int c = 0; c < 3; ++c) {
    p[c] = static_cast<uint8_t>(std::lround((1 - alpha) * p[c] + alpha * color[c]));
  }
}

void DrawRectangle(Image& image, float x0, float y0, float x1, float y1, Rgb color, int thickness) {
  int left = DrawingCoordinate(std::min(x0, x1)), right = DrawingCoordinate(std::max(x0, x1));
  int top = DrawingCoordinate(std::min(y0, y1)), bottom = DrawingCoordinate(std::max(y0, y1));
  left = std::max(left, -1);
  top = std::max(top, -1);
  right = std::min(right, image.width);
  bottom = std::min(bottom, image.height);
  for (int t = 0; t < thickness; ++t) {
    for (int x = left + t; x <= right - t; ++x) {
      PaintPixel(image, x, top + t, color);
      PaintPixel(image, x, bottom - t, color);
    }
    for (int y = top + t; y <= bottom - t; ++y) {
      PaintPixel(image, left + t, y, color);
      PaintPixel(image, right - t, y, color);
    }
  }
}

void DrawDisc(Image& image, float x, float y, float radius, Rgb color) {
  const int r = static_cast<int>(std::ceil(std::clamp(radius, 0.0f, 1e4f)));
  const int cx = DrawingCoordinate(x), cy = DrawingCoordinate(y);
  // Only the part of the square around the disc that lies in the image.
  const int x0 = std::max(cx - r, 0), x1 = std::min(cx + r, image.width - 1);
  const int y0 = std::max(cy - r, 0), y1 = std::min(cy + r, image.height - 1);
  for (int y = y0; y <= y1; ++y) {
    for (int x = x0; x <= x1; ++x) {
      const float dx = static_cast<float>(x - cx), dy = static_cast<float>(y - cy);
      if (dx * dx + dy * dy <= radius * radius) PaintPixel(image, x, y, color);
    }
  }
}

void DrawLine(Image& image, float x0, float y0, float x1, float y1, Rgb color, int thickness) {
  if (std::isnan(x0) || std::isnan(y0) || std::isnan(x1) || std::isnan(y1)) return;
  x0 = std::clamp(x0, -1e4f, 1e4f);
  x1 = std::clamp(x1, -1e4f, 1e4f);
  y0 = std::clamp(y0, -1e4f, 1e4f);
  y1 = std::clamp(y1, -1e4f, 1e4f);
  const int steps =
      std::max(1, static_cast<int>(std::ceil(std::max(std::abs(x1 - x0), std::abs(y1 - y0)))));
  for (int s = 0; s <= steps; ++s) {
    const float t = static_cast<float>(s) / steps;
    DrawDisc(image, x0 + t * (x1 - x0), y0 + t * (y1 - y0), thickness / 2.0f, color);
  }
}

}  // namespace tpufleet
