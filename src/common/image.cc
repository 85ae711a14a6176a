#include "common/image.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <stb/stb_image.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>

#include "common/bmp.h"
#include "common/jpeg.h"

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

// Files named on a command line or in a program are trusted more than uploads, not endlessly.
constexpr uint64_t kMaxLoadedPixels = uint64_t{1} << 28;

Status CheckChannels(int channels) {
  if (channels != 1 && channels != 3)
    return InvalidArgumentError("images are decoded to 1 or 3 channels");
  return OkStatus();
}

}  // namespace

Result<Image> LoadImage(const std::string& path, int channels) {
  TPUFLEET_RETURN_IF_ERROR(CheckChannels(channels));
  std::ifstream file(path, std::ios::binary);
  if (!file.is_open()) {
    return InvalidArgumentError(
        fmt::format("{}: cannot read the image file ({})", path, std::strerror(errno)));
  }
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)), {});
  return DecodeImage(bytes, channels, path, kMaxLoadedPixels);
}

Result<Image> DecodeImage(std::span<const uint8_t> bytes, int channels, const std::string& source,
                          uint64_t max_pixels) {
  TPUFLEET_RETURN_IF_ERROR(CheckChannels(channels));
  if (bytes.empty()) return InvalidArgumentError(source + ": the image is empty");
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return InvalidArgumentError(source + ": the image is larger than 2 GiB");
  }
  if (LooksLikeJpeg(bytes)) return DecodeJpeg(bytes, channels, source, max_pixels);
  if (IsPlainBmp(bytes)) return DecodePlainBmp(bytes, channels, source, max_pixels);
  int width = 0, height = 0, original = 0;
  const int size = static_cast<int>(bytes.size());
  if (stbi_info_from_memory(bytes.data(), size, &width, &height, &original)) {
    TPUFLEET_RETURN_IF_ERROR(CheckPixelCount(source, width, height, max_pixels));
  }
  stbi_uc* data = stbi_load_from_memory(bytes.data(), size, &width, &height, &original, channels);
  return FromStb(data, width, height, channels, source);
}

Status CheckPixelCount(const std::string& source, uint64_t width, uint64_t height,
                       uint64_t max_pixels) {
  if (width * height <= max_pixels) return OkStatus();  // both below 2^32: no overflow
  return InvalidArgumentError(fmt::format("{}: the image is {}x{} pixels; at most {} are decoded",
                                          source, width, height, max_pixels));
}

void RgbToGrey(Image& image) {
  const size_t pixels = static_cast<size_t>(image.width) * image.height;
  const uint8_t* rgb = image.pixels.data();
  for (size_t i = 0; i < pixels; ++i, rgb += 3) {  // writes behind what it reads
    image.pixels[i] =
        static_cast<uint8_t>((rgb[0] * 19595 + rgb[1] * 38470 + rgb[2] * 7471 + 0x8000) >> 16);
  }
  image.pixels.resize(pixels);
  image.channels = 1;
}

namespace {

// Where one output coordinate samples its source axis: the two neighbours and the weight of the
// second, pixel centres aligned (half-pixel), clamped to the edges.
struct Tap {
  size_t first, second;  // source positions, in elements (pixel index times `stride`)
  float weight, rest;    // weight of `second`, and 1 - weight
};

std::vector<Tap> Taps(int out_size, int in_size, size_t stride) {
  std::vector<Tap> taps(out_size);
  const float scale = static_cast<float>(in_size) / out_size;
  for (int i = 0; i < out_size; ++i) {
    float f = std::clamp((i + 0.5f) * scale - 0.5f, 0.0f, static_cast<float>(in_size - 1));
    int low = static_cast<int>(f), high = std::min(low + 1, in_size - 1);
    float weight = f - low;
    taps[i] = {low * stride, high * stride, weight, 1 - weight};
  }
  return taps;
}

}  // namespace

Image ResizeBilinear(const Image& image, int width, int height) {
  Image out;
  out.width = width;
  out.height = height;
  out.channels = image.channels;
  out.pixels.resize(static_cast<size_t>(width) * height * image.channels);
  const size_t channels = image.channels, row = static_cast<size_t>(image.width) * channels;
  const std::vector<Tap> columns = Taps(width, image.width, channels);
  const std::vector<Tap> rows = Taps(height, image.height, row);
  uint8_t* target = out.pixels.data();
  for (const Tap& y : rows) {
    const uint8_t* top = image.pixels.data() + y.first;
    const uint8_t* bottom = image.pixels.data() + y.second;
    for (const Tap& x : columns) {
      for (size_t c = 0; c < channels; ++c) {
        float v = (static_cast<float>(top[x.first + c]) * x.rest +
                   static_cast<float>(top[x.second + c]) * x.weight) *
                      y.rest +
                  (static_cast<float>(bottom[x.first + c]) * x.rest +
                   static_cast<float>(bottom[x.second + c]) * x.weight) *
                      y.weight;
        // std::lround(v) for v >= 0, without the call: the float v plus 0.5 is exact in double,
        // so truncating it rounds correctly (the check's concern is a double v).
        // NOLINTNEXTLINE(bugprone-incorrect-roundings)
        *target++ = static_cast<uint8_t>(static_cast<int>(static_cast<double>(v) + 0.5));
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
// test, scale * std ~ 1 and zero point ~ mean (uint8) or 0 (int8); or an input holding [0, 1]
// (scale 1/255 and the type's lowest value as zero point: YOLO's exports), which the raw pixels
// encode as p / 255.
bool TakesPixelsAsTheyAre(float scale, int64_t zero_point, int64_t raw_zero_point) {
  const bool coral = std::abs(scale * kPixelStd - 1) < 1e-5f && zero_point == raw_zero_point;
  const bool unit_range = std::abs(scale * 255 - 1) < 1e-5f && zero_point == raw_zero_point - 128;
  return coral || unit_range;
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
