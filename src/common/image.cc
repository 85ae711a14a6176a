#include "common/image.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <stb/stb_image.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>

namespace tpufleet {

namespace {

// What stb decoded (owned here, freed on return) as an Image, or why it did not decode.
Result<Image> FromStb(stbi_uc* decoded, int width, int height, int channels,
                      const std::string& source) {
  std::unique_ptr<uint8_t, void (*)(void*)> data(decoded, stbi_image_free);
  if (!data) {
    const char* reason = stbi_failure_reason();
    return InvalidArgumentError(source + ": cannot decode image (" +
                                (reason ? reason : "unknown reason") +
                                "); BMP, JPEG and PNG files are supported");
  }
  Image image;
  image.width = width;
  image.height = height;
  image.channels = channels;
  image.pixels.assign(data.get(), data.get() + static_cast<size_t>(width) * height * channels);
  return image;
}

Status CheckChannels(int channels) {
  if (channels != 1 && channels != 3)
    return InvalidArgumentError("images are decoded to 1 or 3 channels");
  return OkStatus();
}

}  // namespace

Result<Image> LoadImage(const std::string& path, int channels) {
  TPUFLEET_RETURN_IF_ERROR(CheckChannels(channels));
  int width = 0, height = 0, original = 0;
  stbi_uc* data = stbi_load(path.c_str(), &width, &height, &original, channels);
  return FromStb(data, width, height, channels, path);
}

Result<Image> DecodeImage(std::span<const uint8_t> bytes, int channels, const std::string& source,
                          uint64_t max_pixels) {
  TPUFLEET_RETURN_IF_ERROR(CheckChannels(channels));
  if (bytes.empty()) return InvalidArgumentError(source + ": the image is empty");
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return InvalidArgumentError(source + ": the image is larger than 2 GiB");
  }
  int width = 0, height = 0, original = 0;
  const int size = static_cast<int>(bytes.size());
  if (stbi_info_from_memory(bytes.data(), size, &width, &height, &original) &&
      static_cast<uint64_t>(width) * static_cast<uint64_t>(height) > max_pixels) {
    return InvalidArgumentError(fmt::format("{}: the image is {}x{} pixels; at most {} are decoded",
                                            source, width, height, max_pixels));
  }
  stbi_uc* data = stbi_load_from_memory(bytes.data(), size, &width, &height, &original, channels);
  return FromStb(data, width, height, channels, source);
}

Image ResizeBilinear(const Image& image, int width, int height) {
  Image out;
  out.width = width;
  out.height = height;
  out.channels = image.channels;
  out.pixels.resize(static_cast<size_t>(width) * height * image.channels);
  float sx = static_cast<float>(image.width) / width,
        sy = static_cast<float>(image.height) / height;
  for (int y = 0; y < height; ++y) {
    float fy = std::clamp((y + 0.5f) * sy - 0.5f, 0.0f, static_cast<float>(image.height - 1));
    int y0 = static_cast<int>(fy), y1 = std::min(y0 + 1, image.height - 1);
    float dy = fy - y0;
    for (int x = 0; x < width; ++x) {
      float fx = std::clamp((x + 0.5f) * sx - 0.5f, 0.0f, static_cast<float>(image.width - 1));
      int x0 = static_cast<int>(fx), x1 = std::min(x0 + 1, image.width - 1);
      float dx = fx - x0;
      for (int c = 0; c < image.channels; ++c) {
        auto at = [&](int yy, int xx) {
          return static_cast<float>(
              image.pixels[(static_cast<size_t>(yy) * image.width + xx) * image.channels + c]);
        };
        float v = (at(y0, x0) * (1 - dx) + at(y0, x1) * dx) * (1 - dy) +
                  (at(y1, x0) * (1 - dx) + at(y1, x1) * dx) * dy;
        out.pixels[(static_cast<size_t>(y) * width + x) * image.channels + c] =
            static_cast<uint8_t>(std::lround(v));
      }
    }
  }
  return out;
}

namespace {

// Coral's image normalisation for quantized inputs (classify_image.py): pixels stand for
// (p - mean) / std, quantized with the input's scale and zero point.
constexpr float kPixelMean = 128, kPixelStd = 128;

// Whether the quantized input takes pixels as they are (uint8) or shifted by 128 (int8): Coral's
// test, scale * std ~ 1 and zero point ~ mean (uint8) or 0 (int8).
bool TakesPixelsAsTheyAre(float scale, int64_t zero_point, int64_t raw_zero_point) {
  return std::abs(scale * kPixelStd - 1) < 1e-5f && zero_point == raw_zero_point;
}

// q = (p - mean) / (std * scale) + zero_point, rounded and clamped to [lowest, highest].
template <typename Q>
std::vector<uint8_t> Quantized(const std::vector<uint8_t>& pixels, float scale,
                               int64_t zero_point) {
  std::vector<uint8_t> bytes(pixels.size());
  for (size_t i = 0; i < pixels.size(); ++i) {
    float q = std::round((pixels[i] - kPixelMean) / (kPixelStd * scale) + zero_point);
    Q value = static_cast<Q>(
        std::clamp<float>(q, std::numeric_limits<Q>::lowest(), std::numeric_limits<Q>::max()));
    std::memcpy(&bytes[i], &value, 1);
  }
  return bytes;
}

}  // namespace

Result<std::vector<uint8_t>> ImageTensor(const Image& image, const TensorInfo& input) {
  const std::vector<int32_t>& shape = input.shape;
  if (shape.size() != 4 || shape[0] != 1 || shape[1] < 1 || shape[2] < 1 ||
      (shape[3] != 1 && shape[3] != 3)) {
    return InvalidArgumentError(
        fmt::format("input '{}' is {} [{}]; an image needs [1, height, width, 1 or 3]", input.name,
                    DataTypeName(input.type), fmt::join(shape, ", ")));
  }
  if (image.channels != shape[3]) {
    return InvalidArgumentError(fmt::format("the image has {} channels; input '{}' takes {}",
                                            image.channels, input.name, shape[3]));
  }
  const Quantization& q = input.quantization;
  if (q.per_channel()) {
    return UnimplementedError(fmt::format(
        "input '{}' is quantized per channel ({} scales); images feed inputs with one scale",
        input.name, q.scales.size()));
  }
  bool integer = input.type == DataType::kUInt8 || input.type == DataType::kInt8;
  if (integer && !q.empty() && !(std::isfinite(q.scales[0]) && q.scales[0] > 0)) {
    return InvalidArgumentError(
        fmt::format("input '{}' has quantization scale {}; an image needs a positive, finite scale",
                    input.name, q.scales[0]));
  }
  Image resized = ResizeBilinear(image, shape[2], shape[1]);
  std::vector<uint8_t>& pixels = resized.pixels;
  std::vector<uint8_t> bytes;
  switch (input.type) {
    case DataType::kUInt8:
      if (q.empty() || TakesPixelsAsTheyAre(q.scales[0], q.zero_points[0], 128)) return pixels;
      return Quantized<uint8_t>(pixels, q.scales[0], q.zero_points[0]);
    case DataType::kInt8:
      if (q.empty() || TakesPixelsAsTheyAre(q.scales[0], q.zero_points[0], 0)) {
        for (uint8_t& p : pixels) p ^= 0x80;  // p - 128 in two's complement
        return pixels;
      }
      return Quantized<int8_t>(pixels, q.scales[0], q.zero_points[0]);
    case DataType::kFloat32:
      bytes.resize(pixels.size() * sizeof(float));
      for (size_t i = 0; i < pixels.size(); ++i) {
        float value = (pixels[i] - 127.5f) / 127.5f;
        std::memcpy(bytes.data() + i * sizeof(float), &value, sizeof(float));
      }
      return bytes;
    default:
      return UnimplementedError(fmt::format("images cannot feed input '{}' of type {}", input.name,
                                            DataTypeName(input.type)));
  }
}

Result<std::vector<uint8_t>> ImageFileTensor(const std::string& path, const Model& model) {
  if (model.input_indices().size() != 1) {
    return InvalidArgumentError(fmt::format("{} has {} inputs; an image feeds a model with one",
                                            model.name(), model.input_indices().size()));
  }
  const TensorInfo& input = model.input(0);
  int channels = input.shape.size() == 4 && input.shape[3] == 1 ? 1 : 3;
  TPUFLEET_ASSIGN_OR_RETURN(Image image, LoadImage(path, channels));
  return ImageTensor(image, input);
}

}  // namespace tpufleet
