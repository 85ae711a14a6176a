#include "common/jpeg.h"

#include <fmt/format.h>

#include <csetjmp>
#include <cstdio>
#include <memory>

// After <cstdio>: libjpeg's headers need FILE and size_t declared before them.
#include <jerror.h>
#include <jpeglib.h>

namespace tpufleet {
namespace {

// libjpeg reports errors through a callback that must not return: it jumps back to the decoder
// with the message. Warnings of data that ends early become errors (Pillow refuses truncated
// files too); libjpeg's other warnings, about recoverable damage, are let pass as Pillow does.
struct ErrorTrap {
  jpeg_error_mgr manager;
  std::jmp_buf resume;
  char message[JMSG_LENGTH_MAX] = "";
};

[[noreturn]] void JumpBack(j_common_ptr info) {
  ErrorTrap* trap = reinterpret_cast<ErrorTrap*>(info->err);
  (*info->err->format_message)(info, trap->message);
  // libjpeg is C: its error callback cannot throw through it, and must not return.
  std::longjmp(trap->resume, 1);  // NOLINT(cert-err52-cpp)
}

void OnMessage(j_common_ptr info, int level) {
  if (level < 0 && info->err->msg_code == JWRN_JPEG_EOF) JumpBack(info);
}

// What the decoding steps write, kept outside the frame that calls setjmp: nothing in that frame
// changes between setjmp and a jump back.
struct Decoding {
  jpeg_decompress_struct info;
  ErrorTrap trap;
  Image image;
  Status refusal;  // set when the header is read and the image is refused
};

// The libjpeg calls; returns false when libjpeg jumped back with an error.
bool Run(Decoding& d, std::span<const uint8_t> bytes, int channels, const std::string& source,
         uint64_t max_pixels) {
  if (setjmp(d.trap.resume) != 0) return false;  // NOLINT(cert-err52-cpp): see JumpBack
  jpeg_mem_src(&d.info, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&d.info, TRUE);
  d.refusal = CheckPixelCount(source, d.info.image_width, d.info.image_height, max_pixels);
  if (!d.refusal.ok()) return true;
  if (d.info.jpeg_color_space == JCS_CMYK || d.info.jpeg_color_space == JCS_YCCK) {
    d.refusal =
        InvalidArgumentError(source + ": CMYK JPEGs are not supported; RGB and grey ones are");
    return true;
  }
  // A colour image is decoded to RGB even for one channel: its grey is then Pillow's
  // convert("L") of the RGB pixels, not the file's own luma.
  const bool grey_file = d.info.jpeg_color_space == JCS_GRAYSCALE;
  d.info.out_color_space = channels == 1 && grey_file ? JCS_GRAYSCALE : JCS_RGB;
  d.info.dct_method = JDCT_ISLOW;
  d.info.do_fancy_upsampling = TRUE;
  jpeg_start_decompress(&d.info);
  d.image.width = static_cast<int>(d.info.output_width);
  d.image.height = static_cast<int>(d.info.output_height);
  d.image.channels = d.info.output_components;
  const size_t row = static_cast<size_t>(d.image.width) * d.image.channels;
  d.image.pixels.resize(row * d.image.height);
  while (d.info.output_scanline < d.info.output_height) {
    JSAMPROW rows[1] = {d.image.pixels.data() + row * d.info.output_scanline};
    jpeg_read_scanlines(&d.info, rows, 1);
  }
  jpeg_finish_decompress(&d.info);
  return true;
}

}  // namespace

bool LooksLikeJpeg(std::span<const uint8_t> bytes) {
  return bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF;
}

Result<Image> DecodeJpeg(std::span<const uint8_t> bytes, int channels, const std::string& source,
                         uint64_t max_pixels) {
  auto d = std::make_unique<Decoding>();
  d->info.err = jpeg_std_error(&d->trap.manager);
  d->trap.manager.error_exit = JumpBack;
  d->trap.manager.emit_message = OnMessage;
  jpeg_create_decompress(&d->info);
  const bool decoded = Run(*d, bytes, channels, source, max_pixels);
  jpeg_destroy_decompress(&d->info);
  if (!decoded) {
    return InvalidArgumentError(
        fmt::format("{}: cannot decode JPEG ({})", source, d->trap.message));
  }
  if (!d->refusal.ok()) return d->refusal;
  if (d->image.channels != channels) RgbToGrey(d->image);
  return std::move(d->image);
}

}  // namespace tpufleet
