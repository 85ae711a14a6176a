// Tasks inferred from real models' outputs, and their outputs read as results: classes,
// detection boxes in image pixels (three output orders), DeepLab's classes against the ground
// truth mask, PoseNet's keypoints against Coral's reference, embeddings and their norms.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "common/image.h"
#include "cpu/interpreter.h"
#include "model/zoo/zoo.h"
#include "support/shared_files.h"
#include "tpufleet/image.h"
#include "tpufleet/model_editor.h"
#include "tpufleet/task.h"

namespace tpufleet {
namespace {

using ::testing::HasSubstr;
using testing::SharedModel;

std::string SharedImage(const std::string& file) {
  return (testing::SharedDir() / "images" / file).string();
}

// The model's outputs on the CPU for the image file, as the fleet answers them.
TensorList RunOnCpu(const ModelPtr& model, const std::string& image) {
  std::unique_ptr<cpu::Interpreter> interpreter = cpu::Interpreter::Create(model, {1}).value();
  std::vector<uint8_t> pixels = ImageFileTensor(image, *model).value();
  std::memcpy(interpreter->input(0).data, pixels.data(), pixels.size());
  EXPECT_TRUE(interpreter->Invoke().ok());
  TensorList outputs;
  for (size_t i = 0; i < interpreter->output_count(); ++i) {
    const cpu::Tensor& t = interpreter->output(i);
    outputs.emplace_back(t.data, t.data + t.byte_size());
  }
  return outputs;
}

TaskOptions ForImage(const std::string& path) {
  Image image = LoadImage(path).value();
  TaskOptions options;
  options.image_width = image.width;
  options.image_height = image.height;
  return options;
}

TEST(TaskResultsTest, EachRealModelsTaskIsInferred) {
  const std::map<std::string, Task> expected = {
      {"mobilenet_v1_0.25_128_quant.tflite", Task::kClassification},
      {"mobilenet_v1_0.25_128_quant_edgetpu.tflite", Task::kClassification},
      {"mobilenet_v1_0.5_160_quant.tflite", Task::kClassification},
      {"mobilenet_v2_1.0_224_quant.tflite", Task::kClassification},
      {"mobilenet_v2_1.0_224_quant_edgetpu.tflite", Task::kClassification},
      {"mobilenet_v2_1.0_224_inat_bird_quant.tflite", Task::kClassification},
      {"tf2_mobilenet_v2_1.0_224_ptq.tflite", Task::kClassification},
      {"person_detect_int8.tflite", Task::kClassification},
      {"keras_lstm_mnist_ptq.tflite", Task::kClassification},
      {"ssd_mobilenet_v1_coco_quant_postprocess_2018_06_29.tflite", Task::kDetection},
      {"ssd_mobilenet_v1_coco_quant_postprocess_segment_1_of_2_edgetpu.tflite", Task::kDetection},
      {"deeplabv3_mnv2_dm05_pascal_quant.tflite", Task::kSegmentation},
      {"deeplabv3_mnv2_dm05_pascal_quant_edgetpu.tflite", Task::kSegmentation},
      {"posenet_mobilenet_v1_075_353_481_16_quant_decoder.tflite", Task::kPose},
      {"posenet_mobilenet_v1_075_353_481_16_quant_decoder_edgetpu.tflite", Task::kPose},
  };
  for (const auto& [file, task] : expected) {
    std::string path = SharedModel(file);
    TPUFLEET_REQUIRE_FILE(path);
    Result<Task> inferred = InferTask(*Model::FromFile(path).value());
    ASSERT_TRUE(inferred.ok()) << file << ": " << inferred.status().message();
    EXPECT_EQ(TaskName(*inferred), TaskName(task)) << file;
  }
  // The first segment of a pipeline ends in intermediate tensors: no task, and the message
  // says what the outputs are and which tasks exist.
  std::string segment =
      SharedModel("ssd_mobilenet_v1_coco_quant_postprocess_segment_0_of_2_edgetpu.tflite");
  TPUFLEET_REQUIRE_FILE(segment);
  Result<Task> none = InferTask(*Model::FromFile(segment).value());
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.status().message(), HasSubstr("no task matches the outputs"));
  EXPECT_THAT(none.status().message(),
              HasSubstr("classification, detection, segmentation, pose, embedding"));
}

TEST(TaskResultsTest, TaskNamesParseAndABadOneNamesTheAcceptedValues) {
  for (Task t : {Task::kClassification, Task::kDetection, Task::kSegmentation, Task::kPose,
                 Task::kEmbedding}) {
    EXPECT_EQ(ParseTask(TaskName(t)).value(), t);
  }
  Result<Task> bad = ParseTask("depth");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(),
            "unknown task 'depth': the tasks are classification, detection, segmentation, pose, "
            "embedding");
}

TEST(TaskResultsTest, ClassifierGivesTheCatAndRefusesOtherTasks) {
  std::string path = SharedModel("mobilenet_v2_1.0_224_quant.tflite");
  TPUFLEET_REQUIRE_FILE(path);
  ModelPtr model = Model::FromFile(path).value();
  TensorList outputs = RunOnCpu(model, SharedImage("cat.bmp"));
  TaskOptions options;
  options.top_k = 3;
  TaskResult result = InterpretOutputs(*model, outputs, Task::kClassification, options).value();
  ASSERT_EQ(result.classes.size(), 3u);
  EXPECT_EQ(result.classes[0].id, 286);  // Egyptian cat
  EXPECT_GT(result.classes[0].score, result.classes[1].score);

  Result<TaskResult> as_map = InterpretOutputs(*model, outputs, Task::kSegmentation);
  ASSERT_FALSE(as_map.ok());
  EXPECT_THAT(as_map.status().message(), HasSubstr("segmentation needs output 0 to be a map"));
  EXPECT_THAT(as_map.status().message(), HasSubstr("uint8 [1, 1001]"));
  EXPECT_FALSE(InterpretOutputs(*model, outputs, Task::kDetection).ok());
  EXPECT_FALSE(InterpretOutputs(*model, outputs, Task::kPose).ok());
  Result<TaskResult> missing = InterpretOutputs(*model, {}, Task::kClassification);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("0 output tensors given; the model has 1"));
}

// The SSD's outputs listed in another order, as TF2 SSDs (scores, boxes, count, classes) and
// EfficientDet-Lite's signature (count, scores, classes, boxes) list them.
ModelPtr Reordered(const Model& ssd, const std::vector<size_t>& order) {
  ModelEditor editor(ssd);
  std::vector<int> outputs;
  for (size_t i : order) outputs.push_back(ssd.output_indices()[i]);
  EXPECT_TRUE(editor.SetOutputs(outputs).ok());
  return editor.Finish("reordered").value();
}

TEST(TaskResultsTest, DetectionBoxesAreInImagePixelsWhateverTheOutputOrder) {
  std::string path = SharedModel("ssd_mobilenet_v1_coco_quant_postprocess_2018_06_29.tflite");
  TPUFLEET_REQUIRE_FILE(path);
  ModelPtr ssd = Model::FromFile(path).value();
  const std::string cat = SharedImage("cat.bmp");
  TaskOptions options = ForImage(cat);
  ASSERT_EQ(options.image_width, 512);
  ASSERT_EQ(options.image_height, 341);
  TaskResult tf1 = InterpretOutputs(*ssd, RunOnCpu(ssd, cat), Task::kDetection, options).value();
  // models/README.md: a cat (COCO label 16) with score about 0.74. The cat fills the left
  // two thirds of the picture, from near the top to the bottom edge.
  ASSERT_FALSE(tf1.objects.empty());
  const DetectedObject& found = tf1.objects[0];
  EXPECT_EQ(found.id, 16);
  EXPECT_NEAR(found.score, 0.74, 0.03);
  EXPECT_NEAR(found.box.xmin, 0.086 * 512, 8);
  EXPECT_NEAR(found.box.xmax, 0.703 * 512, 8);
  EXPECT_NEAR(found.box.ymin, 0.131 * 341, 8);
  EXPECT_NEAR(found.box.ymax, 0.977 * 341, 8);
  EXPECT_GT(found.box.xmax - found.box.xmin, 250);  // pixels, not fractions

  for (const std::vector<size_t>& order :
       {std::vector<size_t>{2, 0, 3, 1}, std::vector<size_t>{3, 2, 1, 0}}) {
    ModelPtr other = Reordered(*ssd, order);
    ASSERT_EQ(InferTask(*other).value(), Task::kDetection);
    TaskResult same =
        InterpretOutputs(*other, RunOnCpu(other, cat), Task::kDetection, options).value();
    ASSERT_EQ(same.objects.size(), tf1.objects.size());
    for (size_t i = 0; i < same.objects.size(); ++i) {
      EXPECT_EQ(same.objects[i].id, tf1.objects[i].id);
      EXPECT_EQ(same.objects[i].score, tf1.objects[i].score);
      EXPECT_EQ(same.objects[i].box.xmin, tf1.objects[i].box.xmin);
      EXPECT_EQ(same.objects[i].box.ymax, tf1.objects[i].box.ymax);
    }
  }
}

// Four graph inputs copied to four outputs by RESHAPE: a detector's outputs without
// TFLite_Detection_PostProcess, which PyCoral's rule reads by their shapes.
ModelPtr PassThrough(const std::vector<std::vector<int32_t>>& shapes) {
  ModelEditor editor;
  std::vector<int> inputs, outputs;
  for (size_t i = 0; i < shapes.size(); ++i) {
    int in = editor.AddTensor("in" + std::to_string(i), DataType::kFloat32, shapes[i]).value();
    int out = editor.AddTensor("out" + std::to_string(i), DataType::kFloat32, shapes[i]).value();
    OperatorOptions reshape;
    reshape.new_shape = shapes[i];
    EXPECT_TRUE(editor.AddOperator("RESHAPE", {in}, {out}, reshape).ok());
    inputs.push_back(in);
    outputs.push_back(out);
  }
  EXPECT_TRUE(editor.SetInputs(inputs).ok());
  EXPECT_TRUE(editor.SetOutputs(outputs).ok());
  return editor.Finish("pass_through").value();
}

std::vector<uint8_t> Floats(const std::vector<float>& values) {
  std::vector<uint8_t> bytes(values.size() * sizeof(float));
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

TEST(TaskResultsTest, DetectorsWithoutThePostProcessOperatorFollowPyCoralsRule) {
  // Two detections; the second is below the threshold. Boxes are ymin, xmin, ymax, xmax.
  const std::vector<float> boxes = {0.1f, 0.2f, 0.5f, 0.6f, 0, 0, 1, 1};
  const std::vector<float> classes = {7, 3}, scores = {0.9f, 0.1f}, count = {2};
  TaskOptions options;
  options.image_width = 200;
  options.image_height = 100;
  options.score_threshold = 0.5f;
  ModelPtr tf1 = PassThrough({{1, 2, 4}, {1, 2}, {1, 2}, {1}});
  ModelPtr tf2 = PassThrough({{1, 2}, {1, 2, 4}, {1}, {1, 2}});
  for (const auto& [model, outputs] :
       {std::pair{tf1, TensorList{Floats(boxes), Floats(classes), Floats(scores), Floats(count)}},
        std::pair{tf2,
                  TensorList{Floats(scores), Floats(boxes), Floats(count), Floats(classes)}}}) {
    ASSERT_EQ(InferTask(*model).value(), Task::kDetection);
    TaskResult r = InterpretOutputs(*model, outputs, Task::kDetection, options).value();
    ASSERT_EQ(r.objects.size(), 1u);
    EXPECT_EQ(r.objects[0].id, 7);
    EXPECT_FLOAT_EQ(r.objects[0].box.xmin, 40);
    EXPECT_FLOAT_EQ(r.objects[0].box.ymin, 10);
    EXPECT_FLOAT_EQ(r.objects[0].box.xmax, 120);
    EXPECT_FLOAT_EQ(r.objects[0].box.ymax, 50);
  }
}

// A model taking a [1, 64, 64, 3] image with one float32 output of `shape`, for tests that give
// the output values themselves. A 64 x 64 input has 8 x 8 + 4 x 4 + 2 x 2 = 84 grid cells.
ModelPtr ImageModelWithOutput(const std::vector<int32_t>& shape) {
  ModelEditor editor;
  int image = editor.AddTensor("image", DataType::kFloat32, {1, 64, 64, 3}).value();
  size_t count = 1;
  for (int32_t d : shape) count *= static_cast<size_t>(d);
  int values = editor
                   .AddConstant("values", DataType::kFloat32, {static_cast<int32_t>(count)},
                                std::vector<uint8_t>(count * sizeof(float), 0))
                   .value();
  int out = editor.AddTensor("out", DataType::kFloat32, shape).value();
  OperatorOptions reshape;
  reshape.new_shape = shape;
  EXPECT_TRUE(editor.AddOperator("RESHAPE", {values}, {out}, reshape).ok());
  EXPECT_TRUE(editor.SetInputs({image}).ok());
  EXPECT_TRUE(editor.SetOutputs({out}).ok());
  return editor.Finish("yolo_shaped").value();
}

TEST(TaskResultsTest, YoloOutputsAreDetectionsAfterNonMaximumSuppression) {
  constexpr int kAnchors = 84, kClasses = 3;
  TaskOptions options;
  options.image_width = 200;
  options.image_height = 100;
  // Anchors as (centre x, centre y, width, height, class scores...): the best box; one of the
  // same class overlapping it (suppressed); the same box for another class (kept); a box of
  // the first class elsewhere (kept); one scoring below the threshold.
  struct Row {
    float box[4];
    int id;
    float score;
  };
  const Row rows[] = {{{0.5f, 0.5f, 0.2f, 0.4f}, 1, 0.9f},
                      {{0.51f, 0.5f, 0.2f, 0.4f}, 1, 0.8f},
                      {{0.5f, 0.5f, 0.2f, 0.4f}, 2, 0.7f},
                      {{0.1f, 0.1f, 0.1f, 0.1f}, 1, 0.6f},
                      {{0.8f, 0.8f, 0.1f, 0.1f}, 0, 0.3f}};

  ModelPtr v8 = ImageModelWithOutput({1, 4 + kClasses, kAnchors});
  std::vector<float> v8_values((4 + kClasses) * kAnchors, 0.0f);
  ModelPtr v5 = ImageModelWithOutput({1, 3 * kAnchors, 5 + kClasses});
  std::vector<float> v5_values(3 * kAnchors * (5 + kClasses), 0.0f);
  for (int a = 0; a < 5; ++a) {
    for (int j = 0; j < 4; ++j) {
      v8_values[j * kAnchors + a] = rows[a].box[j];
      v5_values[a * (5 + kClasses) + j] = rows[a].box[j];
    }
    v8_values[(4 + rows[a].id) * kAnchors + a] = rows[a].score;
    v5_values[a * (5 + kClasses) + 4] = 0.5f;  // objectness, times the class score
    v5_values[a * (5 + kClasses) + 5 + rows[a].id] = 2 * rows[a].score;
  }
  for (const auto& [model, values] : {std::pair{v8, v8_values}, std::pair{v5, v5_values}}) {
    ASSERT_EQ(InferTask(*model).value(), Task::kDetection);
    TaskResult r = InterpretOutputs(*model, {Floats(values)}, Task::kDetection, options).value();
    ASSERT_EQ(r.objects.size(), 3u);
    EXPECT_EQ(r.objects[0].id, 1);
    EXPECT_FLOAT_EQ(r.objects[0].score, 0.9f);
    EXPECT_FLOAT_EQ(r.objects[0].box.xmin, 80);
    EXPECT_FLOAT_EQ(r.objects[0].box.ymin, 30);
    EXPECT_FLOAT_EQ(r.objects[0].box.xmax, 120);
    EXPECT_FLOAT_EQ(r.objects[0].box.ymax, 70);
    EXPECT_EQ(r.objects[1].id, 2);
    EXPECT_EQ(r.objects[2].id, 1);
    EXPECT_FLOAT_EQ(r.objects[2].score, 0.6f);
    TaskOptions two = options;
    two.top_k = 2;
    EXPECT_EQ(InterpretOutputs(*model, {Floats(values)}, Task::kDetection, two)->objects.size(),
              2u);
  }
  // A truncated output is refused; NaN scores and empty boxes are left out.
  std::vector<uint8_t> truncated = Floats(v8_values);
  truncated.resize(truncated.size() / 2);
  Result<TaskResult> refused = InterpretOutputs(*v8, {truncated}, Task::kDetection, options);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("YOLO boxes and scores need 588"));
  std::vector<float> odd = v8_values;
  odd[(4 + 1) * kAnchors + 0] = std::nanf("");  // the best anchor's class 1 score
  odd[2 * kAnchors + 3] = 0;                    // the far box's width
  TaskResult rest = InterpretOutputs(*v8, {Floats(odd)}, Task::kDetection, options).value();
  ASSERT_EQ(rest.objects.size(), 2u);
  EXPECT_FLOAT_EQ(rest.objects[0].score, 0.8f);  // anchor 1, no longer suppressed
  EXPECT_EQ(rest.objects[1].id, 2);

  // An anchor count the input size does not give is not YOLO's.
  ModelPtr other = ImageModelWithOutput({1, 4 + kClasses, kAnchors + 1});
  Result<Task> other_task = InferTask(*other);
  EXPECT_FALSE(other_task.ok() && *other_task == Task::kDetection);
}

// The zoo's YOLOv8n run on the CPU: a detector whose objects come best first, none of one
// class overlapping a better one by more than the suppression threshold.
TEST(TaskResultsTest, ZooYoloV8RunsAsADetector) {
  zoo::ZooOptions options;
  options.precision = zoo::Precision::kInt8;
  options.resolution = 128;
  ModelPtr model =
      Model::FromBuffer(zoo::BuildZooModel("yolov8n", options).value(), "yolov8n").value();
  ASSERT_EQ(InferTask(*model).value(), Task::kDetection);
  TaskOptions task;
  task.score_threshold = 0.0f;
  task.top_k = 50;
  TaskResult r =
      InterpretOutputs(*model, RunOnCpu(model, SharedImage("cat.bmp")), Task::kDetection, task)
          .value();
  ASSERT_EQ(r.objects.size(), 50u);
  for (size_t i = 1; i < r.objects.size(); ++i) {
    EXPECT_GE(r.objects[i - 1].score, r.objects[i].score);
    for (size_t j = 0; j < i; ++j) {
      if (r.objects[i].id != r.objects[j].id) continue;
      const BoundingBox& a = r.objects[i].box;
      const BoundingBox& b = r.objects[j].box;
      float w = std::min(a.xmax, b.xmax) - std::max(a.xmin, b.xmin);
      float h = std::min(a.ymax, b.ymax) - std::max(a.ymin, b.ymin);
      float overlap = std::max(w, 0.0f) * std::max(h, 0.0f);
      float joint =
          (a.xmax - a.xmin) * (a.ymax - a.ymin) + (b.xmax - b.xmin) * (b.ymax - b.ymin) - overlap;
      EXPECT_LE(overlap / joint, 0.5f + 1e-5f) << i << " overlaps " << j;
    }
  }
}

TEST(TaskResultsTest, MoveNetKeypointsAreScaledToTheImage) {
  ModelPtr single = PassThrough({{1, 1, 17, 3}});
  ASSERT_EQ(InferTask(*single).value(), Task::kPose);
  std::vector<float> values(17 * 3);
  for (int k = 0; k < 17; ++k) {
    values[k * 3] = 0.5f;                      // y
    values[k * 3 + 1] = 0.25f;                 // x
    values[k * 3 + 2] = k < 10 ? 0.9f : 0.1f;  // score
  }
  TaskOptions options;
  options.image_width = 640;
  options.image_height = 480;
  options.score_threshold = 0.2f;
  TaskResult r = InterpretOutputs(*single, {Floats(values)}, Task::kPose, options).value();
  ASSERT_EQ(r.poses.size(), 1u);
  ASSERT_EQ(r.poses[0].keypoints.size(), 17u);
  EXPECT_FLOAT_EQ(r.poses[0].keypoints[3].x, 160);
  EXPECT_FLOAT_EQ(r.poses[0].keypoints[3].y, 240);
  EXPECT_NEAR(r.poses[0].score, (10 * 0.9 + 7 * 0.1) / 17, 1e-5);
  EXPECT_EQ(KeypointName(r.poses[0].keypoints[16].id), "right_ankle");

  ModelPtr multi = PassThrough({{1, 6, 56}});
  ASSERT_EQ(InferTask(*multi).value(), Task::kPose);
  std::vector<float> rows(6 * 56, 0.0f);
  rows[56 + 51] = 0.1f;  // pose 1's box: ymin, xmin, ymax, xmax, score
  rows[56 + 52] = 0.2f;
  rows[56 + 53] = 0.9f;
  rows[56 + 54] = 0.8f;
  rows[56 + 55] = 0.7f;
  TaskResult m = InterpretOutputs(*multi, {Floats(rows)}, Task::kPose, options).value();
  ASSERT_EQ(m.poses.size(), 1u);  // the other five score 0
  ASSERT_TRUE(m.poses[0].box.has_value());
  EXPECT_FLOAT_EQ(m.poses[0].box->xmin, 0.2f * 640);
  EXPECT_FLOAT_EQ(m.poses[0].box->ymax, 0.9f * 480);
  EXPECT_FLOAT_EQ(m.poses[0].score, 0.7f);
}

TEST(TaskResultsTest, DeepLabFindsTheBirdOfTheGroundTruthMask) {
  std::string path = SharedModel("deeplabv3_mnv2_dm05_pascal_quant.tflite");
  std::string image = SharedImage("bird_segmentation.bmp");
  std::string truth_path = SharedImage("bird_segmentation_mask.bmp");
  TPUFLEET_REQUIRE_FILE(path);
  TPUFLEET_REQUIRE_FILE(truth_path);
  ModelPtr model = Model::FromFile(path).value();
  TensorList outputs = RunOnCpu(model, image);
  ASSERT_EQ(InferTask(*model).value(), Task::kSegmentation);
  TaskResult r = InterpretOutputs(*model, outputs, Task::kSegmentation, ForImage(image)).value();
  ASSERT_EQ(r.segmentation.width, 513);
  ASSERT_EQ(r.segmentation.height, 513);
  ASSERT_EQ(r.segmentation.classes.size(), 513u * 513u);
  // Background first, then the bird (PASCAL VOC class 3).
  ASSERT_GE(r.areas.size(), 2u);
  EXPECT_EQ(r.areas[0].id, 0);
  EXPECT_EQ(r.areas[1].id, 3);
  double total = 0;
  for (const ClassArea& a : r.areas) total += a.fraction;
  EXPECT_NEAR(total, 1.0, 1e-9);

  // The ground truth: one grey byte per pixel, the class id (3 the bird).
  Image truth = LoadImage(truth_path, 1).value();
  ASSERT_EQ(truth.width, 513);
  uint64_t both = 0, either = 0, agree = 0;
  for (size_t p = 0; p < truth.pixels.size(); ++p) {
    bool bird = r.segmentation.classes[p] == 3, true_bird = truth.pixels[p] == 3;
    both += bird && true_bird;
    either += bird || true_bird;
    agree += bird == true_bird;
  }
  const double iou = static_cast<double>(both) / static_cast<double>(either);
  EXPECT_GT(iou, 0.7) << "bird IoU " << iou;
  EXPECT_GT(static_cast<double>(agree) / truth.pixels.size(), 0.95);
}

struct ReferenceKeypoint {
  int pose;
  float pose_score, score, x, y;  // x and y normalized
};

// Coral's reference CSV (pose_id, pose_score, keypoint_id, keypoint_score, x, y).
std::vector<ReferenceKeypoint> ReadReference(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // the header
  std::vector<ReferenceKeypoint> rows;
  while (std::getline(in, line)) {
    std::stringstream fields(line);
    std::vector<float> v;
    for (std::string field; std::getline(fields, field, ',');) v.push_back(std::stof(field));
    if (v.size() == 6) rows.push_back({static_cast<int>(v[0]), v[1], v[3], v[4], v[5]});
  }
  return rows;
}

TEST(TaskResultsTest, PoseNetKeypointsInImagePixelsMatchCoralsReference) {
  std::string path = SharedModel("posenet_mobilenet_v1_075_353_481_16_quant_decoder.tflite");
  std::string csv = SharedModel("posenet_mobilenet_v1_075_353_481_16_quant_decoder_reference.csv");
  std::string image = SharedImage("posenet_test_image.bmp");
  TPUFLEET_REQUIRE_FILE(path);
  TPUFLEET_REQUIRE_FILE(csv);
  ModelPtr model = Model::FromFile(path).value();
  TaskOptions options = ForImage(image);
  ASSERT_EQ(options.image_width, 640);
  ASSERT_EQ(options.image_height, 480);
  options.score_threshold = 0.2f;  // the decoder's own
  TaskResult r = InterpretOutputs(*model, RunOnCpu(model, image), Task::kPose, options).value();
  std::vector<ReferenceKeypoint> reference = ReadReference(csv);
  ASSERT_EQ(reference.size(), 34u);
  // Coral's comparison (libcoral's pose tests): the same number of poses, pose scores within
  // 0.1, and keypoints scoring above 0.7 in both within 0.04 of the image's size, at least 8
  // of them per pose.
  ASSERT_EQ(r.poses.size(), 2u);
  for (int p = 0; p < 2; ++p) {
    const Pose& pose = r.poses[p];
    EXPECT_NEAR(pose.score, reference[p * 17].pose_score, 0.1);
    int compared = 0;
    for (int k = 0; k < 17; ++k) {
      const ReferenceKeypoint& want = reference[p * 17 + k];
      const Keypoint& got = pose.keypoints[k];
      if (want.score <= 0.7f || got.score <= 0.7f) continue;
      ++compared;
      EXPECT_NEAR(got.x / 640, want.x, 0.04) << "pose " << p << " " << KeypointName(k);
      EXPECT_NEAR(got.y / 480, want.y, 0.04) << "pose " << p << " " << KeypointName(k);
    }
    EXPECT_GE(compared, 8) << "pose " << p;
  }
}

TEST(TaskResultsTest, ZooUNetIsASegmenterAtTheImageResolution) {
  ModelPtr model =
      Model::FromBuffer(zoo::BuildZooModel("unet_mobilenet_v2", {}).value(), "unet").value();
  ASSERT_EQ(InferTask(*model).value(), Task::kSegmentation);
  TaskResult r =
      InterpretOutputs(*model, RunOnCpu(model, SharedImage("cat.bmp")), Task::kSegmentation)
          .value();
  EXPECT_EQ(r.segmentation.width, 128);
  EXPECT_EQ(r.segmentation.height, 128);
  uint64_t pixels = 0;
  for (const ClassArea& area : r.areas) {
    EXPECT_LT(area.id, 3);
    pixels += area.pixels;
  }
  EXPECT_EQ(pixels, 128u * 128u);
}

TEST(TaskResultsTest, ZooEmbeddingExtractorGivesAUnitVector) {
  zoo::ZooOptions options;
  options.resolution = 128;
  ModelPtr model =
      Model::FromBuffer(zoo::BuildZooModel("mobilenet_v1_embedding", options).value(), "embedding")
          .value();
  ASSERT_EQ(InferTask(*model).value(), Task::kEmbedding);
  TaskResult r =
      InterpretOutputs(*model, RunOnCpu(model, SharedImage("cat.bmp")), Task::kEmbedding).value();
  EXPECT_EQ(r.embedding.values.size(), 1024u);
  EXPECT_NEAR(r.embedding.norm, 1.0f, 0.05f);  // elements in steps of 1/128
}

TEST(TaskResultsTest, EmbeddingExtractorsGiveTheVectorAndItsNorm) {
  std::string path = SharedModel("mobilenet_v1_0.25_128_quant.tflite");
  TPUFLEET_REQUIRE_FILE(path);
  ModelPtr classifier = Model::FromFile(path).value();
  // Cut after the global average pool, as Coral's embedding extractors are cut.
  const std::vector<OperatorInfo>& ops = classifier->operators();
  auto pool = std::find_if(ops.begin(), ops.end(),
                           [](const OperatorInfo& op) { return op.name == "AVERAGE_POOL_2D"; });
  ASSERT_NE(pool, ops.end());
  const int pooled = pool->outputs[0];
  ModelEditor editor(*classifier);
  ASSERT_TRUE(editor.KeepOperators(pool->index + 1).ok());
  ASSERT_TRUE(editor.SetOutputs({pooled}).ok());
  ModelPtr extractor = editor.Finish("extractor").value();
  ASSERT_EQ(InferTask(*extractor).value(), Task::kEmbedding);
  const std::string cat = SharedImage("cat.bmp");
  TaskResult plain =
      InterpretOutputs(*extractor, RunOnCpu(extractor, cat), Task::kEmbedding).value();
  ASSERT_EQ(plain.embedding.values.size(), 256u);
  double squares = 0;
  for (float v : plain.embedding.values) squares += v * v;
  EXPECT_NEAR(plain.embedding.norm, std::sqrt(squares), 1e-4);
  EXPECT_GT(plain.embedding.norm, 1.0f);

  // An L2-norm head (imprinting models have one): the vector then has norm 1, to the head's
  // quantization (1/128 per element).
  const int flat =
      editor
          .AddTensor("flat", DataType::kUInt8, {1, 256}, classifier->tensors()[pooled].quantization)
          .value();
  OperatorOptions reshape;
  reshape.new_shape = {1, 256};
  ASSERT_TRUE(editor.AddOperator("RESHAPE", {pooled}, {flat}, reshape).ok());
  Quantization unit;
  unit.scales = {1.0f / 128};
  unit.zero_points = {128};
  const int normalized = editor.AddTensor("normalized", DataType::kUInt8, {1, 256}, unit).value();
  ASSERT_TRUE(editor.AddOperator("L2_NORMALIZATION", {flat}, {normalized}).ok());
  ASSERT_TRUE(editor.SetOutputs({normalized}).ok());
  ModelPtr normed = editor.Finish("l2_head").value();
  ASSERT_EQ(InferTask(*normed).value(), Task::kEmbedding);
  TaskResult unit_result =
      InterpretOutputs(*normed, RunOnCpu(normed, cat), Task::kEmbedding).value();
  EXPECT_NEAR(unit_result.embedding.norm, 1.0f, 0.05f);
}

}  // namespace
}  // namespace tpufleet
