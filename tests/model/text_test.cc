#include "common/text.h"

#include <gtest/gtest.h>

namespace tpufleet {
namespace {

TEST(TextTest, BytesPrintLikeTheEdgeTpuCompiler) {
  EXPECT_EQ(FormatBytes(0), "0.00B");
  EXPECT_EQ(FormatBytes(1023), "1023.00B");
  EXPECT_EQ(FormatBytes(566912), "553.63KiB");
  EXPECT_EQ(FormatBytes(1473280), "1.41MiB");
  EXPECT_EQ(FormatBytes(7990000), "7.62MiB");
  EXPECT_EQ(FormatBytes(uint64_t{3} << 30), "3.00GiB");
}

TEST(TextTest, ThousandsSeparators) {
  EXPECT_EQ(WithThousands(0), "0");
  EXPECT_EQ(WithThousands(999), "999");
  EXPECT_EQ(WithThousands(1000), "1,000");
  EXPECT_EQ(WithThousands(566912), "566,912");
  EXPECT_EQ(WithThousands(1234567890), "1,234,567,890");
}

TEST(TextTest, TokensAreSixteenHexDigits) {
  EXPECT_EQ(FormatToken(0x6d146c3f97d6648cULL), "0x6d146c3f97d6648c");
  EXPECT_EQ(FormatToken(1), "0x0000000000000001");
}

TEST(TextTest, CountsUseSiSuffixes) {
  EXPECT_EQ(FormatCount(999), "999");
  EXPECT_EQ(FormatCount(14200), "14.20K");
  EXPECT_EQ(FormatCount(569000000), "569.0M");
  EXPECT_EQ(FormatCount(1500000000), "1.50G");
}

}  // namespace
}  // namespace tpufleet
