// The custom operator TFLite_Detection_PostProcess (SSDs, EfficientDet): decodes box encodings
// against anchors, then keeps the best boxes by non-maximum suppression, class-agnostic ("fast",
// the default) or per class ("regular"). Inputs may be quantized; outputs are float32.
#include <flatbuffers/flexbuffers.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "cpu/boxes.h"
#include "cpu/kernels/kernels.h"
#include "cpu/quantization.h"
#include "cpu/shape_math.h"

namespace tpufleet::cpu {
namespace {

struct Options {
  int max_detections = 10, max_classes_per_detection = 1, detections_per_class = 100,
      num_classes = 90;
  bool use_regular_nms = false;
  float score_threshold = 0, iou_threshold = 0.5f, y_scale = 10, x_scale = 10, h_scale = 5,
        w_scale = 5;
};

struct Detection {
  int anchor;
  int label;  // 0-based, background excluded
  float score;
};

class DetectionPostProcessKernel : public Kernel {
 public:
  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(3, 3, 4));
    TPUFLEET_RETURN_IF_ERROR(ReadOptions(c));
    const Tensor& boxes = c.input(0);
    const Tensor& scores = c.input(1);
    const Tensor& anchors = c.input(2);
    if (boxes.rank() < 1 || scores.rank() < 1 || anchors.rank() < 1) {
      return c.Invalid(
          fmt::format("box encodings {}, class scores {} and anchors {} must not be "
                      "scalars",
                      Describe(boxes), Describe(scores), Describe(anchors)));
    }
    anchors_ = anchors.element_count() / 4;
    if (boxes.element_count() != anchors_ * 4 || anchors.dim(-1) != 4) {
      return c.Invalid(fmt::format("box encodings {} do not match anchors {}", Describe(boxes),
                                   Describe(anchors)));
    }
    // Columns before the last num_classes are skipped: one background column in SSDs,
    // none in EfficientDet-Lite.
    score_columns_ = scores.dim(-1);
    if (scores.element_count() != anchors_ * score_columns_ ||
        score_columns_ < options_.num_classes) {
      return c.Invalid(fmt::format(
          "class scores {} do not hold {} classes (and an optional background column) for {} "
          "anchors",
          Describe(scores), options_.num_classes, anchors_));
    }
    label_offset_ = static_cast<int>(score_columns_ - options_.num_classes);
    for (const Tensor* t : c.inputs) {
      if (t->type != DataType::kFloat32 && !IsQuantized8(t->type))
        return c.Unsupported("input type " + DataTypeName(t->type));
    }
    if (options_.max_classes_per_detection > options_.num_classes) {
      return c.Invalid(fmt::format("max_classes_per_detection {} exceeds num_classes {}",
                                   options_.max_classes_per_detection, options_.num_classes));
    }
    TPUFLEET_ASSIGN_OR_RETURN(
        int64_t detections,
        CheckedProduct(c, {options_.max_detections, options_.max_classes_per_detection},
                       "max_detections x max_classes_per_detection"));
    TPUFLEET_RETURN_IF_ERROR(CheckDimension(c, detections * 4, "the boxes output's size"));
    int32_t m = static_cast<int32_t>(detections);
    std::vector<std::vector<int32_t>> shapes = {{1, m, 4}, {1, m}, {1, m}, {1}};
    for (size_t i = 0; i < 4; ++i) {
      if (c.output(i).type != DataType::kFloat32) return c.Unsupported("non-float32 outputs");
      c.output(i).shape = shapes[i];
    }
    return OkStatus();
  }

  Status Eval(OpContext& c) override {
    DecodeBoxes(c.input(0), c.input(2));
    const Tensor& raw = c.input(1);
    std::vector<Detection> kept;
    if (!options_.use_regular_nms && options_.max_classes_per_detection == 1) {
      kept = Suppress(BestClassPerAnchor(raw), options_.max_detections);  // the default, fast path
    } else {
      std::vector<float> scores(anchors_ * options_.num_classes);
      for (size_t a = 0; a < anchors_; ++a) {
        for (int k = 0; k < options_.num_classes; ++k) {
          scores[a * options_.num_classes + k] =
              RealValueAt(raw, a * score_columns_ + label_offset_ + k);
        }
      }
      kept = options_.use_regular_nms ? RegularNms(scores) : FastNms(scores);
    }
    Write(kept, c);
    return OkStatus();
  }

 private:
  Status ReadOptions(const OpContext& c) {
    const auto* raw = c.op->custom_options();
    if (raw == nullptr || !flexbuffers::VerifyBuffer(raw->data(), raw->size())) {
      return c.Invalid("custom options are missing or not a FlexBuffer");
    }
    flexbuffers::Map m = flexbuffers::GetRoot(raw->data(), raw->size()).AsMap();
    auto integer = [&](const char* key, int& out) {
      if (!m[key].IsNull()) out = m[key].AsInt32();
    };
    auto real = [&](const char* key, float& out) {
      if (!m[key].IsNull()) out = m[key].AsFloat();
    };
    integer("max_detections", options_.max_detections);
    integer("max_classes_per_detection", options_.max_classes_per_detection);
    integer("detections_per_class", options_.detections_per_class);
    integer("num_classes", options_.num_classes);
    if (!m["use_regular_nms"].IsNull()) options_.use_regular_nms = m["use_regular_nms"].AsBool();
    real("nms_score_threshold", options_.score_threshold);
    real("nms_iou_threshold", options_.iou_threshold);
    real("y_scale", options_.y_scale);
    real("x_scale", options_.x_scale);
    real("h_scale", options_.h_scale);
    real("w_scale", options_.w_scale);
    if (options_.max_detections < 1 || options_.max_detections > 10000 ||
        options_.num_classes < 1 || options_.max_classes_per_detection < 1 ||
        options_.detections_per_class < 1) {
      return c.Invalid(
          "max_detections, num_classes, max_classes_per_detection and detections_per_class must be "
          "positive");
    }
    return OkStatus();
  }

  void DecodeBoxes(const Tensor& encodings, const Tensor& anchors) {
    decoded_.resize(anchors_);
    for (size_t a = 0; a < anchors_; ++a) {
      float ya = RealValueAt(anchors, a * 4), xa = RealValueAt(anchors, a * 4 + 1);
      float ha = RealValueAt(anchors, a * 4 + 2), wa = RealValueAt(anchors, a * 4 + 3);
      float ty = RealValueAt(encodings, a * 4), tx = RealValueAt(encodings, a * 4 + 1);
      float th = RealValueAt(encodings, a * 4 + 2), tw = RealValueAt(encodings, a * 4 + 3);
      float yc = ty / options_.y_scale * ha + ya, xc = tx / options_.x_scale * wa + xa;
      float h = std::exp(th / options_.h_scale) * ha, w = std::exp(tw / options_.w_scale) * wa;
      decoded_[a] = {yc - h / 2, xc - w / 2, yc + h / 2, xc + w / 2};
    }
  }

  // Greedy suppression of candidates (sorted by score, best first); keeps at most `limit`.
  std::vector<Detection> Suppress(std::vector<Detection> candidates, size_t limit) const {
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const Detection& a, const Detection& b) { return a.score > b.score; });
    std::vector<Detection> kept;
    for (const Detection& d : candidates) {
      if (kept.size() >= limit) break;
      bool overlaps = std::any_of(kept.begin(), kept.end(), [&](const Detection& k) {
        return IntersectionOverUnion(decoded_[k.anchor], decoded_[d.anchor]) >
               options_.iou_threshold;
      });
      if (!overlaps) kept.push_back(d);
    }
    return kept;
  }

  // Each anchor's best class above the threshold. Raw values order as real ones do (positive
  // scale), so only the winner is dequantized.
  std::vector<Detection> BestClassPerAnchor(const Tensor& raw) const {
    switch (raw.type) {
      case DataType::kUInt8: return BestOf(raw, raw.as<uint8_t>());
      case DataType::kInt8: return BestOf(raw, raw.as<int8_t>());
      default: return BestOf(raw, raw.as<float>());
    }
  }

  template <typename T>
  std::vector<Detection> BestOf(const Tensor& raw, const T* values) const {
    std::vector<Detection> candidates;
    for (size_t a = 0; a < anchors_; ++a) {
      size_t first = a * score_columns_ + label_offset_;
      const T* s = values + first;
      int best = static_cast<int>(std::max_element(s, s + options_.num_classes) - s);
      float score = RealValueAt(raw, first + best);
      if (score > options_.score_threshold)
        candidates.push_back({static_cast<int>(a), best, score});
    }
    return candidates;
  }

  // Class-agnostic: each anchor competes with its best class's score.
  std::vector<Detection> FastNms(const std::vector<float>& scores) const {
    std::vector<Detection> candidates;
    for (size_t a = 0; a < anchors_; ++a) {
      const float* s = &scores[a * options_.num_classes];
      int best = static_cast<int>(std::max_element(s, s + options_.num_classes) - s);
      if (s[best] > options_.score_threshold)
        candidates.push_back({static_cast<int>(a), best, s[best]});
    }
    std::vector<Detection> kept = Suppress(std::move(candidates), options_.max_detections);
    if (options_.max_classes_per_detection == 1) return kept;
    // Each kept box also reports its next best classes, as TFLite does.
    std::vector<Detection> expanded;
    for (const Detection& d : kept) {
      const float* s = &scores[static_cast<size_t>(d.anchor) * options_.num_classes];
      std::vector<int> order(options_.num_classes);
      std::iota(order.begin(), order.end(), 0);
      std::partial_sort(order.begin(), order.begin() + options_.max_classes_per_detection,
                        order.end(), [&](int a, int b) { return s[a] > s[b]; });
      for (int k = 0; k < options_.max_classes_per_detection; ++k)
        expanded.push_back({d.anchor, order[k], s[order[k]]});
    }
    return expanded;
  }

  // Per class: suppress within each class, then keep the best over all classes.
  std::vector<Detection> RegularNms(const std::vector<float>& scores) const {
    std::vector<Detection> all;
    for (int k = 0; k < options_.num_classes; ++k) {
      std::vector<Detection> candidates;
      for (size_t a = 0; a < anchors_; ++a) {
        float s = scores[a * options_.num_classes + k];
        if (s > options_.score_threshold) candidates.push_back({static_cast<int>(a), k, s});
      }
      std::vector<Detection> kept = Suppress(std::move(candidates), options_.detections_per_class);
      all.insert(all.end(), kept.begin(), kept.end());
    }
    std::stable_sort(all.begin(), all.end(),
                     [](const Detection& a, const Detection& b) { return a.score > b.score; });
    if (all.size() > static_cast<size_t>(options_.max_detections))
      all.resize(options_.max_detections);
    return all;
  }

  void Write(const std::vector<Detection>& kept, OpContext& c) const {
    float* boxes = c.output(0).as<float>();
    float* classes = c.output(1).as<float>();
    float* scores = c.output(2).as<float>();
    size_t capacity = c.output(1).element_count();
    std::fill(boxes, boxes + capacity * 4, 0.0f);
    std::fill(classes, classes + capacity, 0.0f);
    std::fill(scores, scores + capacity, 0.0f);
    size_t n = std::min(kept.size(), capacity);
    for (size_t i = 0; i < n; ++i) {
      const Box& b = decoded_[kept[i].anchor];
      boxes[i * 4] = b.ymin;
      boxes[i * 4 + 1] = b.xmin;
      boxes[i * 4 + 2] = b.ymax;
      boxes[i * 4 + 3] = b.xmax;
      classes[i] = static_cast<float>(kept[i].label);
      scores[i] = kept[i].score;
    }
    c.output(3).as<float>()[0] = static_cast<float>(n);
  }

  Options options_;
  size_t anchors_ = 0;
  int score_columns_ = 0;  // per anchor: label_offset_ leading columns, then the classes
  int label_offset_ = 0;   // score columns before the first class
  std::vector<Box> decoded_;
};

}  // namespace

std::unique_ptr<Kernel> MakeDetectionPostProcess() {
  return std::make_unique<DetectionPostProcessKernel>();
}

}  // namespace tpufleet::cpu
