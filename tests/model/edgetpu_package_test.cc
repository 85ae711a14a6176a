#include "model/edgetpu_package.h"

#include <flatbuffers/flexbuffers.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tpufleet {
namespace {

using ::testing::HasSubstr;

EdgeTpuPackage TwoExecutables(uint64_t cached, uint64_t streamed, uint64_t token) {
  EdgeTpuPackage package;
  package.min_runtime_version = 13;
  package.compiler_version = "test-compiler";
  package.executables = {
      {EdgeTpuExecutableType::kExecutionOnly, "run", "beagle", streamed, token, 1000, 1},
      {EdgeTpuExecutableType::kParameterCaching, "cache", "beagle", cached, token, 10, 1},
  };
  return package;
}

std::vector<uint8_t> Options(const std::function<void(flexbuffers::Builder&)>& fill) {
  flexbuffers::Builder builder;
  builder.Map([&] { fill(builder); });
  builder.Finish();
  return builder.GetBuffer();
}

TEST(EdgeTpuPackageTest, RoundTripsSizesTokenAndVersions) {
  std::vector<uint8_t> options =
      EncodeEdgeTpuPackage(TwoExecutables(4096, 1234, 0xabcdef0123456789ULL));
  Result<EdgeTpuPackage> parsed = ParseEdgeTpuPackage(options);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->cached_bytes(), 4096u);
  EXPECT_EQ(parsed->streamed_bytes(), 1234u);
  EXPECT_EQ(parsed->caching_token(), 0xabcdef0123456789ULL);
  EXPECT_EQ(parsed->min_runtime_version, 13);
  EXPECT_EQ(parsed->compiler_version, "test-compiler");
  ASSERT_EQ(parsed->executables.size(), 2u);
  EXPECT_EQ(parsed->executables[0].type, EdgeTpuExecutableType::kExecutionOnly);
  EXPECT_EQ(parsed->executables[0].estimated_cycles, 1000);
}

TEST(EdgeTpuPackageTest, StandAloneExecutableStreamsItsParameters) {
  EdgeTpuPackage package;
  package.executables = {{EdgeTpuExecutableType::kStandAlone, "all", "beagle", 777, 0, 0, 1}};
  Result<EdgeTpuPackage> parsed = ParseEdgeTpuPackage(EncodeEdgeTpuPackage(package));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->cached_bytes(), 0u);
  EXPECT_EQ(parsed->streamed_bytes(), 777u);
  EXPECT_EQ(parsed->caching_token(), 0u);
}

TEST(EdgeTpuPackageTest, EmptyOptionsAreRejected) {
  Result<EdgeTpuPackage> parsed = ParseEdgeTpuPackage({});
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr("no custom options"));
}

TEST(EdgeTpuPackageTest, GarbageIsNotAFlexBuffer) {
  std::vector<uint8_t> garbage = {0x01, 0x02, 0x03};  // root byte width 3 does not exist
  Result<EdgeTpuPackage> parsed = ParseEdgeTpuPackage(garbage);
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr("not a valid FlexBuffer"));
}

TEST(EdgeTpuPackageTest, NonMapIsRejected) {
  flexbuffers::Builder builder;
  builder.Int(42);
  builder.Finish();
  Result<EdgeTpuPackage> parsed = ParseEdgeTpuPackage(builder.GetBuffer());
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr("not a FlexBuffer map"));
}

TEST(EdgeTpuPackageTest, MissingPackageKeyIsNamed) {
  Result<EdgeTpuPackage> parsed =
      ParseEdgeTpuPackage(Options([](flexbuffers::Builder& b) { b.Int("1", 0); }));
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr("no package blob under key \"4\""));
}

TEST(EdgeTpuPackageTest, BlobThatIsNotAPackageIsNamed) {
  std::vector<uint8_t> junk(64, 0x11);
  Result<EdgeTpuPackage> parsed = ParseEdgeTpuPackage(Options([&](flexbuffers::Builder& b) {
    b.Key("4");
    b.Blob(junk.data(), junk.size());
  }));
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr("Edge TPU package (DWN1)"));
}

TEST(EdgeTpuPackageTest, NonEmptyExtraPackagesAreRefused) {
  Result<EdgeTpuPackage> parsed = ParseEdgeTpuPackage(
      Options([](flexbuffers::Builder& b) { b.Vector("7", [&] { b.Int(1); }); }));
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kUnimplemented);
  EXPECT_THAT(parsed.status().message(), HasSubstr("extra packages"));
}

TEST(EdgeTpuPackageTest, DisagreeingTokensAreInconsistent) {
  EdgeTpuPackage package = TwoExecutables(10, 10, 5);
  package.executables[1].caching_token = 6;
  Result<EdgeTpuPackage> parsed = ParseEdgeTpuPackage(EncodeEdgeTpuPackage(package));
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr("disagree on the parameter caching token"));
}

TEST(EdgeTpuPackageTest, NoExecutablesIsAnError) {
  EdgeTpuPackage package;
  Result<EdgeTpuPackage> parsed = ParseEdgeTpuPackage(EncodeEdgeTpuPackage(package));
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr("no executables"));
}

TEST(EdgeTpuPackageTest, EveryTruncationFailsCleanly) {
  std::vector<uint8_t> options = EncodeEdgeTpuPackage(TwoExecutables(64, 32, 9));
  for (size_t size = 0; size < options.size(); ++size) {
    std::vector<uint8_t> cut(options.begin(), options.begin() + size);
    Result<EdgeTpuPackage> parsed = ParseEdgeTpuPackage(cut);
    EXPECT_FALSE(parsed.ok()) << "truncated to " << size << " bytes";
  }
}

}  // namespace
}  // namespace tpufleet
