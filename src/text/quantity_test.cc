#include "text/quantity.h"

#include <gtest/gtest.h>

#include <cmath>

namespace souk::text {
namespace {

struct Case {
  const char* text;
  Dimension dimension;
  double value;
  const char* canonical;
};

TEST(QuantityTest, UnitTable) {
  const Case cases[] = {
      {"500ml", Dimension::kVolume, 500, "500ml"},
      {"500 ML", Dimension::kVolume, 500, "500ml"},
      {"5 L", Dimension::kVolume, 5000, "5000ml"},
      {"1.5kg", Dimension::kMass, 1500, "1500g"},
      {"1,5 kg", Dimension::kMass, 1500, "1500g"},
      {"250g", Dimension::kMass, 250, "250g"},
      {"12 oz", Dimension::kMass, 340.1942775, "340.2g"},
      {"3ft", Dimension::kLength, 91.44, "91.44cm"},
      {"10cm", Dimension::kLength, 10, "10cm"},
      {"2.5 inch", Dimension::kLength, 6.35, "6.35cm"},
      {"500毫升", Dimension::kVolume, 500, "500ml"},
      {"5升", Dimension::kVolume, 5000, "5000ml"},
      {"1.5千克", Dimension::kMass, 1500, "1500g"},
      {"2公斤", Dimension::kMass, 2000, "2000g"},
      {"3斤", Dimension::kMass, 1500, "1500g"},
      {"10厘米", Dimension::kLength, 10, "10cm"},
      {"1米", Dimension::kLength, 100, "100cm"},
      {"1-gal.", Dimension::kVolume, 3785.411784, "3785ml"},
      {"16 fl oz", Dimension::kVolume, 473.176473, "473.2ml"},
      {"2 lbs", Dimension::kMass, 907.18474, "907.2g"},
      {"1,500 ml", Dimension::kVolume, 1500, "1500ml"},
      {"50mm", Dimension::kLength, 5, "5cm"},
      {"3/4 in.", Dimension::kLength, 1.905, "1.905cm"},
      {"1-1/2 in.", Dimension::kLength, 3.81, "3.81cm"},
  };
  for (const Case& c : cases) {
    const std::vector<Quantity> q = ExtractQuantities(c.text);
    ASSERT_EQ(q.size(), 1u) << c.text;
    EXPECT_EQ(q[0].dimension, c.dimension) << c.text;
    EXPECT_NEAR(q[0].value, c.value, 1e-6) << c.text;
    EXPECT_EQ(q[0].canonical, c.canonical) << c.text;
    EXPECT_EQ(q[0].begin, 0u) << c.text;
    EXPECT_EQ(q[0].end, std::string_view(c.text).size()) << c.text;
  }
}

TEST(QuantityTest, SpansInsideText) {
  const std::string text = "洗发水 500ml 两瓶装, net wt 12 oz (340g)";
  const std::vector<Quantity> q = ExtractQuantities(text);
  ASSERT_EQ(q.size(), 3u);
  EXPECT_EQ(text.substr(q[0].begin, q[0].end - q[0].begin), "500ml");
  EXPECT_EQ(text.substr(q[1].begin, q[1].end - q[1].begin), "12 oz");
  EXPECT_EQ(text.substr(q[2].begin, q[2].end - q[2].begin), "340g");
  EXPECT_EQ(q[2].canonical, "340g");
}

TEST(QuantityTest, NotQuantities) {
  EXPECT_TRUE(ExtractQuantities("huawei mate60 pro 256gb").empty());
  EXPECT_TRUE(ExtractQuantities("3 in 1 charger").empty());
  EXPECT_TRUE(ExtractQuantities("model p40 x200").empty());
  EXPECT_TRUE(ExtractQuantities("1.9 cu. ft. microwave").empty());
  EXPECT_TRUE(ExtractQuantities("12-gauge angle").empty());
  EXPECT_TRUE(ExtractQuantities("").empty());
  EXPECT_TRUE(ExtractQuantities("99999999999999999999 ml").empty());  // absurdly long
}

TEST(QuantityTest, AttachedInchAndDimensions) {
  const std::vector<Quantity> q = ExtractQuantities("36in. x 80in door, 10cmx20cm, 24\" vanity");
  ASSERT_EQ(q.size(), 5u);
  EXPECT_EQ(q[0].canonical, "91.44cm");
  EXPECT_EQ(q[1].canonical, "203.2cm");
  EXPECT_EQ(q[2].canonical, "10cm");
  EXPECT_EQ(q[3].canonical, "20cm");
  EXPECT_EQ(q[4].canonical, "60.96cm");
}

TEST(QuantityTest, PlainNumbersWithThousandsSeparators) {
  const std::vector<Quantity> q = ExtractQuantities("12,000 btu and 1,234,567 units, 42 items");
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q[0].dimension, Dimension::kNone);
  EXPECT_EQ(q[0].canonical, "12000");
  EXPECT_DOUBLE_EQ(q[1].value, 1234567);
  EXPECT_EQ(q[1].canonical, "1234567");
}

TEST(QuantityTest, CanonicalFormatting) {
  EXPECT_EQ(CanonicalQuantity(1500, Dimension::kMass), "1500g");
  EXPECT_EQ(CanonicalQuantity(0.5, Dimension::kMass), "0.5g");
  EXPECT_EQ(CanonicalQuantity(0.0005, Dimension::kMass), "0.0005g");
  EXPECT_EQ(CanonicalQuantity(6.35, Dimension::kLength), "6.35cm");
  EXPECT_EQ(CanonicalQuantity(1.23456, Dimension::kVolume), "1.235ml");
  EXPECT_EQ(CanonicalQuantity(123456.7, Dimension::kNone), "123457");
  EXPECT_EQ(DimensionName(Dimension::kLength), "length");
}

}  // namespace
}  // namespace souk::text
