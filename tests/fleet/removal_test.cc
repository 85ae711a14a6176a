// Fleet::RemoveModel: what was submitted is answered, nothing new is taken, and the model's
// programs, placement and metrics are released on every device.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fleet/fleet_test_util.h"
#include "support/fixtures.h"
#include "support/shared_files.h"
#include "tpufleet/fleet.h"

namespace tpufleet {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using testing::Inputs;
using testing::Zoo;

bool Ready(std::future<Result<InferenceResult>>& answer) {
  return answer.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

TEST(RemoveModelTest, EveryQueuedRequestIsAnsweredBeforeItReturns) {
  FleetOptions options;
  options.devices = {"sim:0"};
  options.real_time = true;  // the requests queue behind the device's modeled time
  auto fleet = testing::MakeFleet(options);
  ASSERT_TRUE(fleet);
  ModelPtr a = Zoo("mobilenet_v1", 0.25, 64), b = Zoo("mobilenet_v1", 0.5, 64);
  int ia = fleet->AddModel(a).value(), ib = fleet->AddModel(b).value();
  std::vector<std::future<Result<InferenceResult>>> answers;
  for (int i = 0; i < 40; ++i) {
    bool first = i % 4 != 0;
    answers.push_back(fleet->Submit(first ? ia : ib, Inputs(first ? *a : *b)));
  }
  ASSERT_TRUE(fleet->RemoveModel(ia).ok());
  int ok = 0;
  for (size_t i = 0; i < answers.size(); ++i) {
    if (i % 4 == 0) continue;  // model b's
    ASSERT_TRUE(Ready(answers[i])) << "request " << i << " of the removed model is unanswered";
    Result<InferenceResult> r = answers[i].get();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    ok += r.ok();
  }
  EXPECT_EQ(ok, 30);
  Result<InferenceResult> late = fleet->Run(ia, Inputs(*a));
  EXPECT_EQ(late.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(late.status().message(), HasSubstr("was removed"));
  EXPECT_EQ(fleet->placement(ia).status().code(), StatusCode::kNotFound);
  FleetMetrics metrics = fleet->Metrics();
  ASSERT_EQ(metrics.models.size(), 1u);  // only b's
  EXPECT_EQ(metrics.models[0].model, b->name());
  EXPECT_TRUE(fleet->Run(ib, Inputs(*b)).ok());  // the other model is untouched
  for (size_t i = 0; i < answers.size(); i += 4) EXPECT_TRUE(answers[i].get().ok());
}

TEST(RemoveModelTest, ItsProgramsAreDroppedOnEveryDeviceIncludingStandIns) {
  FleetOptions options;
  // sim:0 disconnects after its first invocation: sim:1 stands in and prepares the model too.
  options.sim_topology_json = R"({"devices": [{"faults": {"disconnect_after": 1}}, {}]})";
  options.devices = {"sim:0", "sim:1"};
  options.probe_interval = std::chrono::hours(1);
  auto fleet = testing::MakeFleet(options);
  ASSERT_TRUE(fleet);
  ModelPtr m = Zoo("mobilenet_v1", 0.25, 64);
  int id = fleet->AddModel(m, {"sim:0"}).value();
  ASSERT_TRUE(fleet->Run(id, Inputs(*m)).ok());
  Result<InferenceResult> moved = fleet->Run(id, Inputs(*m));
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(moved->device, "sim:1");
  EXPECT_GT(m.use_count(), 1);  // the fleet's entry, the workers and the programs hold it
  ASSERT_TRUE(fleet->RemoveModel(id).ok());
  EXPECT_EQ(m.use_count(), 1);  // nothing in the fleet holds the model any more
  EXPECT_EQ(fleet->RemoveModel(id).code(), StatusCode::kNotFound);
  EXPECT_EQ(fleet->RemoveModel(7).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fleet->RemoveModel(-1).code(), StatusCode::kInvalidArgument);
}

TEST(RemoveModelTest, ARemovedModelFreesItsDeviceForAutomaticPlacement) {
  FleetOptions options;
  options.devices = {"sim:0", "sim:1"};
  options.strict = true;  // one model per device
  auto fleet = testing::MakeFleet(options);
  ASSERT_TRUE(fleet);
  int a = fleet->AddModel(Zoo("mobilenet_v1", 0.25, 64)).value();
  int b = fleet->AddModel(Zoo("mobilenet_v1", 0.5, 64)).value();
  EXPECT_THAT(fleet->AddModel(Zoo("mobilenet_v2", 0.35, 64)).status().message(),
              HasSubstr("would be model number 3"));
  ASSERT_TRUE(fleet->RemoveModel(a).ok());
  ModelPtr c = Zoo("mobilenet_v2", 0.35, 64);
  Result<int> ic = fleet->AddModel(c);
  ASSERT_TRUE(ic.ok()) << ic.status().ToString();
  EXPECT_GT(*ic, b);  // ids are never reused
  EXPECT_THAT(fleet->placement(*ic).value(), ElementsAre("sim:0"));
  EXPECT_TRUE(fleet->Run(*ic, Inputs(*c)).ok());
}

TEST(RemoveModelTest, ACoCompiledGroupIsReleasedWithItsLastModel) {
  FleetOptions options;
  options.devices = {"sim:0"};
  auto fleet = testing::MakeFleet(options);
  ASSERT_TRUE(fleet);
  ModelPtr a = Zoo("mobilenet_v1", 0.25, 128), b = Zoo("mobilenet_v1", 0.5, 160);
  std::vector<int> ids = fleet->AddCoCompiled({a, b}).value();
  ASSERT_TRUE(fleet->Run(ids[0], Inputs(*a)).ok());
  ASSERT_TRUE(fleet->RemoveModel(ids[0]).ok());
  EXPECT_EQ(fleet->Run(ids[0], Inputs(*a)).status().code(), StatusCode::kNotFound);
  EXPECT_GT(a.use_count(), 1);  // the group's programs share the cache: still prepared
  Result<InferenceResult> other = fleet->Run(ids[1], Inputs(*b));
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_FALSE(other->timing_only);
  ASSERT_TRUE(fleet->RemoveModel(ids[1]).ok());
  EXPECT_EQ(a.use_count(), 1);
  EXPECT_EQ(b.use_count(), 1);
  EXPECT_TRUE(fleet->Metrics().models.empty());
}

TEST(RemoveModelTest, AModelThatFailedToBeAddedIsReleasedAtOnce) {
  Result<ModelPtr> unsupported = Model::FromFile(testing::UnsupportedOperatorModel());
  ASSERT_TRUE(unsupported.ok()) << unsupported.status().ToString();
  FleetOptions options;
  options.devices = {"cpu"};
  auto fleet = testing::MakeFleet(options);
  ASSERT_TRUE(fleet);
  ModelPtr model = std::move(unsupported).value();
  Result<int> added = fleet->AddModel(model);
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(model.use_count(), 1);  // the fleet kept nothing of it
  EXPECT_TRUE(fleet->Metrics().models.empty());
  Result<InferenceResult> guessed = fleet->Run(0, {});  // its id was never handed out
  EXPECT_EQ(guessed.status().message(), added.status().message());
}

TEST(RemoveModelTest, InVirtualTimeItWaitsForNoUnansweredRequest) {
  FleetOptions options;
  options.devices = {"sim:0"};
  ASSERT_FALSE(options.real_time);  // the default: one discrete-event simulation
  auto fleet = testing::MakeFleet(options);
  ASSERT_TRUE(fleet);
  ModelPtr m = Zoo("mobilenet_v1", 0.25, 64);
  int id = fleet->AddModel(m).value();
  std::future<Result<InferenceResult>> pending = fleet->Submit(id, Inputs(*m));
  Status refused = fleet->RemoveModel(id);
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.message(), HasSubstr("1 requests unanswered"));
  EXPECT_TRUE(pending.get().ok());  // still served: the refusal changed nothing
  ASSERT_TRUE(fleet->RemoveModel(id).ok());
  EXPECT_EQ(fleet->Submit(id, Inputs(*m)).get().status().code(), StatusCode::kNotFound);
  EXPECT_EQ(m.use_count(), 1);
}

}  // namespace
}  // namespace tpufleet
