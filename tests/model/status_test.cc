#include "tpufleet/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace tpufleet {
namespace {

Result<int> ReturnsOkWithoutValue() { return OkStatus(); }

TEST(ResultTest, OkStatusWithoutValueIsAnInternalError) {
  // Holds in every build type; this suite normally runs with NDEBUG (RelWithDebInfo).
  Result<int> result = ReturnsOkWithoutValue();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInternal);
  EXPECT_NE(result.status().message().find("OK status and no value"), std::string::npos)
      << result.status().message();
}

TEST(ResultTest, ErrorsAndValuesPassThrough) {
  Result<std::unique_ptr<int>> value = std::make_unique<int>(7);
  ASSERT_TRUE(value.ok());
  EXPECT_TRUE(value.status().ok());
  EXPECT_EQ(**value, 7);
  Result<int> error = NotFoundError("model.tflite: no such file");
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.status().ToString(), "NOT_FOUND: model.tflite: no such file");
}

TEST(ResultDeathTest, ValueOfAFailedResultAbortsWithTheStatus) {
  Result<int> error = UnavailableError("sim:0 disconnected");
  EXPECT_DEATH((void)error.value(),
               "value\\(\\) of a failed Result: UNAVAILABLE: sim:0 disconnected");
}

}  // namespace
}  // namespace tpufleet
