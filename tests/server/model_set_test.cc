// The served models: unload removes a model from the fleet, a changed file replaces the old
// one, and config.json's devices, replicas and co-compiled groups, or a plan, place them.
#include "server/model_set.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "server/plan_placement.h"
#include "support/shared_files.h"

namespace tpufleet::server {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

constexpr const char* kSmall = "mobilenet_v1_0.25_128_quant.tflite";
constexpr const char* kLarger = "mobilenet_v1_0.5_160_quant.tflite";

class ModelSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* file : {kSmall, kLarger}) {
      if (!fs::exists(testing::SharedModel(file))) GTEST_SKIP() << "missing " << file;
    }
    root_ = fs::temp_directory_path() / ("model_set_test_" + std::to_string(getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
    FleetOptions options;
    options.devices = {"sim:0", "sim:1"};  // virtual time: the same figures every run
    Result<std::unique_ptr<Fleet>> fleet = Fleet::Create(options);
    ASSERT_TRUE(fleet.ok()) << fleet.status().ToString();
    fleet_ = std::move(fleet).value();
  }
  void TearDown() override {
    models_.reset();
    fleet_.reset();
    fs::remove_all(root_);
  }

  // Copies the shared model `file` to `relative` in the repository (over what is there).
  void Put(const std::string& relative, const char* file) {
    fs::create_directories((root_ / relative).parent_path());
    fs::copy_file(testing::SharedModel(file), root_ / relative,
                  fs::copy_options::overwrite_existing);
  }
  void Config(const std::string& folder, const std::string& json) {
    fs::create_directories(root_ / folder);
    std::ofstream(root_ / folder / "config.json") << json;
  }
  ModelRepository Repository() { return ModelRepository::Open(root_.string()).value(); }
  ModelSet& Models(std::map<std::string, ModelPlacement> planned = {}) {
    models_ = std::make_unique<ModelSet>(Repository(), *fleet_, log_, std::move(planned));
    return *models_;
  }
  Status RunOnce(const ServedModel& served) {
    TensorList inputs;
    for (int i : served.model->input_indices()) {
      inputs.emplace_back(served.model->tensors()[i].byte_size, 7);
    }
    return fleet_->Run(served.id, std::move(inputs)).status();
  }
  std::vector<std::string> Placement(const std::string& name) {
    return fleet_->placement(models_->Find(name)->id).value();
  }

  fs::path root_;
  std::ostringstream log_text_;
  EventLog log_{LogFormat::kText, log_text_};
  std::unique_ptr<Fleet> fleet_;
  std::unique_ptr<ModelSet> models_;
};

TEST_F(ModelSetTest, UnloadRemovesTheModelFromTheFleet) {
  Put("a.tflite", kSmall);
  Put("b.tflite", kLarger);
  ModelSet& models = Models();
  models.LoadAll();
  ASSERT_THAT(models.Loaded(), SizeIs(2));
  std::shared_ptr<const ServedModel> a = models.Find("a");
  ASSERT_TRUE(RunOnce(*a).ok());
  ASSERT_TRUE(models.Unload("a").ok());
  EXPECT_EQ(models.Find("a"), nullptr);
  EXPECT_EQ(fleet_->placement(a->id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(RunOnce(*a).code(), StatusCode::kNotFound);
  EXPECT_EQ(a->model.use_count(), 1);  // only this ServedModel still holds it: the fleet let go
  ASSERT_THAT(fleet_->Metrics().models, SizeIs(1));
  EXPECT_EQ(models.Unload("a").code(), StatusCode::kNotFound);
  EXPECT_THAT(log_text_.str(), HasSubstr("model unloaded"));

  ASSERT_TRUE(models.Load("a").ok());  // added anew
  EXPECT_NE(models.Find("a")->id, a->id);
  EXPECT_TRUE(RunOnce(*models.Find("a")).ok());
}

TEST_F(ModelSetTest, AChangedFileReplacesTheOldModelAndAnUnchangedOneIsReused) {
  Put("a.tflite", kSmall);
  ModelSet& models = Models();
  ASSERT_TRUE(models.Load("a").ok());
  std::shared_ptr<const ServedModel> first = models.Find("a");
  ASSERT_TRUE(models.Load("a").ok());
  EXPECT_EQ(models.Find("a")->id, first->id);  // unchanged: what the fleet prepared serves on
  Put("a.tflite", kLarger);
  ASSERT_TRUE(models.Load("a").ok());
  std::shared_ptr<const ServedModel> second = models.Find("a");
  EXPECT_NE(second->id, first->id);
  EXPECT_EQ(fleet_->placement(first->id).status().code(), StatusCode::kNotFound);
  EXPECT_THAT(fleet_->Metrics().models, SizeIs(1));
  EXPECT_TRUE(RunOnce(*second).ok());
}

TEST_F(ModelSetTest, ConfigPlacesOnDevicesReplicasAndCoCompiledGroups) {
  Put("pinned/m.tflite", kSmall);
  Config("pinned", R"({"devices": ["sim:1"]})");
  Put("wide/m.tflite", kSmall);
  Config("wide", R"({"replicas": 2})");
  Put("first/m.tflite", kSmall);
  Config("first", R"({"group": "pair"})");
  Put("second/m.tflite", kLarger);
  Config("second", R"({"group": "pair"})");
  ModelSet& models = Models();
  models.LoadAll();
  ASSERT_THAT(models.Loaded(), SizeIs(4)) << log_text_.str();
  EXPECT_THAT(Placement("pinned"), ElementsAre("sim:1"));
  EXPECT_THAT(Placement("wide"), UnorderedElementsAre("sim:0", "sim:1"));
  EXPECT_EQ(Placement("first"), Placement("second"));  // a group is placed as one
  EXPECT_THAT(log_text_.str(), HasSubstr("group=pair"));
  // Co-compiled: switching between the two reloads their parameters once, not at every switch.
  std::shared_ptr<const ServedModel> a = models.Find("first"), b = models.Find("second");
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(RunOnce(*a).ok());
    ASSERT_TRUE(RunOnce(*b).ok());
  }
  uint64_t reloads = 0;
  for (const ModelMetrics& m : fleet_->Metrics().models) {
    if (m.model == a->model->name() || m.model == b->model->name()) reloads += m.reloads;
  }
  EXPECT_EQ(reloads, 1u);
  // Unloading one member leaves the other served.
  ASSERT_TRUE(models.Unload("first").ok());
  EXPECT_TRUE(RunOnce(*b).ok());
}

TEST_F(ModelSetTest, PlacementsThatCannotBeGetAClearError) {
  Put("many/m.tflite", kSmall);
  Config("many", R"({"replicas": 3})");
  Put("alone/m.tflite", kSmall);
  Config("alone", R"({"group": "nobody"})");
  Put("elsewhere/m.tflite", kSmall);
  Config("elsewhere", R"({"devices": ["sim:5"]})");
  ModelSet& models = Models();
  EXPECT_THAT(models.Load("many").message(),
              HasSubstr("\"replicas\" is 3, but the daemon has 2 devices (sim:0, sim:1)"));
  EXPECT_THAT(models.Load("alone").message(), HasSubstr("group 'nobody', which has no other"));
  EXPECT_THAT(models.Load("elsewhere").message(), HasSubstr("'sim:5': index 5 is out of range"));
  for (const ModelState& state : models.Index()) EXPECT_EQ(state.state, "UNAVAILABLE");
}

TEST_F(ModelSetTest, APlanPlacesEntriesAndCoCompilesItsUnits) {
  Put("solo.tflite", kSmall);
  Put("x/small.tflite", kSmall);
  Put("y/larger.tflite", kLarger);
  Config("y", R"({"devices": ["sim:0"]})");  // the plan overrides it
  planner::PlanFile plan;
  plan.units = {{{(root_ / "solo.tflite").string()}, {"sim:1"}},
                {{"/elsewhere/larger.tflite", "small.tflite"}, {"sim:1"}}};
  Result<std::map<std::string, ModelPlacement>> planned = PlacementsFromPlan(plan, Repository());
  ASSERT_TRUE(planned.ok()) << planned.status().ToString();
  ASSERT_THAT(*planned, SizeIs(3));
  EXPECT_EQ(planned->at("y").order, 0);
  EXPECT_EQ(planned->at("x").order, 1);
  ModelSet& models = Models(std::move(planned).value());
  models.LoadAll();
  ASSERT_THAT(models.Loaded(), SizeIs(3)) << log_text_.str();
  EXPECT_THAT(Placement("solo"), ElementsAre("sim:1"));
  EXPECT_THAT(Placement("x"), ElementsAre("sim:1"));
  EXPECT_THAT(Placement("y"), ElementsAre("sim:1"));

  planner::PlanFile unknown;
  unknown.units = {{{"zoo:mobilenet_v1"}, {"sim:0"}}};
  EXPECT_THAT(PlacementsFromPlan(unknown, Repository()).status().message(),
              HasSubstr("is a zoo model"));
  unknown.units = {{{"missing.tflite"}, {"sim:0"}}};
  EXPECT_THAT(PlacementsFromPlan(unknown, Repository()).status().message(),
              HasSubstr("plan model 'missing.tflite' is served by no entry"));
  Put("z/small.tflite", kSmall);
  unknown.units = {{{"small.tflite"}, {"sim:0"}}};
  EXPECT_THAT(PlacementsFromPlan(unknown, Repository()).status().message(),
              HasSubstr("could be any of the entries x, z"));
}

}  // namespace
}  // namespace tpufleet::server
