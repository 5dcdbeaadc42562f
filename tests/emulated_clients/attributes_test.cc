// Write-Attributes (attributes.h): stored per path, validated, inherited.
#include "emulated_clients/attributes.h"

#include <gtest/gtest.h>

#include "tests/emulated_clients/device_test_util.h"

namespace fogm2m::emulated {
namespace {

using namespace testing;

TEST(DeviceWriteAttributes, StoredPerPathAndValidated) {
  Device d = make_device();
  auto code_of = [&](const CoapMessage& m) { return d.handle_request(m, T0).code; };
  EXPECT_EQ(code_of(write_attributes("/3313/0/5702", {"pmin=1", "pmax=5", "gt=3", "st=0.5"})),
            coap_code(CoapCode::kChanged));
  auto a = d.attributes_at(Path(3313, 0, 5702));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->pmin, 1u);
  EXPECT_EQ(a->pmax, 5u);
  EXPECT_DOUBLE_EQ(a->gt, 3.0);
  EXPECT_DOUBLE_EQ(a->st, 0.5);
  EXPECT_FALSE(a->has(Attributes::kLt));
  // A bare name removes the attribute; removing all removes the entry.
  EXPECT_EQ(code_of(write_attributes("/3313/0/5702", {"pmin", "gt"})),
            coap_code(CoapCode::kChanged));
  a = d.attributes_at(Path(3313, 0, 5702));
  ASSERT_TRUE(a.has_value());
  EXPECT_FALSE(a->has(Attributes::kPmin));
  EXPECT_TRUE(a->has(Attributes::kPmax));
  EXPECT_EQ(code_of(write_attributes("/3313/0/5702", {"pmax", "st"})),
            coap_code(CoapCode::kChanged));
  EXPECT_FALSE(d.attributes_at(Path(3313, 0, 5702)).has_value());

  EXPECT_EQ(code_of(write_attributes("/3313/0", {"pmin=2", "epmin=1", "epmax=9"})),
            coap_code(CoapCode::kChanged));
  EXPECT_EQ(code_of(write_attributes("/3313/0", {"foo=1"})), coap_code(CoapCode::kBadRequest));
  EXPECT_EQ(code_of(write_attributes("/3313/0", {"gt=1"})), coap_code(CoapCode::kBadRequest));
  EXPECT_EQ(code_of(write_attributes("/3/0/14", {"gt=1"})),
            coap_code(CoapCode::kBadRequest));  // String
  EXPECT_EQ(code_of(write_attributes("/3/0/7", {"lt=1"})),
            coap_code(CoapCode::kBadRequest));  // multiple
  EXPECT_EQ(code_of(write_attributes("/3313/0/5702", {"gt=1", "lt=2"})),
            coap_code(CoapCode::kBadRequest));
  EXPECT_EQ(code_of(write_attributes("/3313/0/5702", {"gt=10", "lt=2", "st=4"})),
            coap_code(CoapCode::kBadRequest));
  EXPECT_EQ(code_of(write_attributes("/3313/0/5702", {"gt=10", "lt=2", "st=3"})),
            coap_code(CoapCode::kChanged));
  EXPECT_EQ(code_of(write_attributes("/3313/0/5702", {"st=-1"})), coap_code(CoapCode::kBadRequest));
  EXPECT_EQ(code_of(write_attributes("/3313/0", {"pmin=abc"})), coap_code(CoapCode::kBadRequest));
  EXPECT_EQ(code_of(write_attributes("/3313/0", {"pmin=-1"})), coap_code(CoapCode::kBadRequest));
  EXPECT_EQ(code_of(write_attributes("/3313/0", {"pmin="})), coap_code(CoapCode::kBadRequest));
  EXPECT_EQ(code_of(write_attributes("/3313/7", {"pmin=1"})), coap_code(CoapCode::kNotFound));
  EXPECT_EQ(code_of(write_attributes("/0/0", {"pmin=1"})), coap_code(CoapCode::kNotFound));
  EXPECT_EQ(code_of(write_attributes("/3/0/99", {"pmin=1"})), coap_code(CoapCode::kNotFound));
  // The failed writes changed nothing.
  a = d.attributes_at(Path(3313, 0));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->pmin, 2u);
  EXPECT_EQ(a->epmax, 9u);
}

TEST(AttributeTable, PeriodsInheritGtLtStDoNot) {
  AttributeTable table;
  EXPECT_EQ(table.write(Path(3313), {"pmin=5", "pmax=60"}, false), coap_code(CoapCode::kChanged));
  EXPECT_EQ(table.write(Path(3313, 0), {"pmin=2"}, false), coap_code(CoapCode::kChanged));
  EXPECT_EQ(table.write(Path(3313, 0, 5702), {"gt=1.5", "st=0.5"}, true),
            coap_code(CoapCode::kChanged));
  Attributes defaults;
  defaults.set = Attributes::kPmax | Attributes::kPmin;
  defaults.pmin = 1;
  defaults.pmax = 300;
  const Attributes r = table.effective(Path(3313, 0, 5702), defaults);
  EXPECT_EQ(r.pmin, 2u);   // the instance's, over the object's and the default
  EXPECT_EQ(r.pmax, 60u);  // the object's, over the default
  EXPECT_TRUE(r.has(Attributes::kGt) && r.has(Attributes::kSt));
  const Attributes other = table.effective(Path(3313, 0, 5703), defaults);
  EXPECT_FALSE(other.has(Attributes::kGt));  // gt/lt/st stay on their resource
  EXPECT_EQ(table.effective(Path(3, 0), defaults).pmax, 300u);
  EXPECT_FALSE(table.effective(Path(3, 0), Attributes{}).has(Attributes::kPmax));
}

TEST(AttributeTable, RefusesWhatTheSpecificationForbids) {
  AttributeTable table;
  const uint8_t bad = coap_code(CoapCode::kBadRequest);
  EXPECT_EQ(table.write(Path(3313, 0), {"gt=1"}, false), bad);  // not a numeric resource
  EXPECT_EQ(table.write(Path(3313, 0, 5702), {"gt=1", "lt=2"}, true),
            bad);  // lt must stay below gt
  EXPECT_EQ(table.write(Path(3313, 0, 5702), {"gt=5", "lt=1", "st=3"}, true),
            bad);  // lt + 2 st < gt
  EXPECT_EQ(table.write(Path(3313, 0, 5702), {"st=-1"}, true), bad);
  EXPECT_EQ(table.write(Path(3313, 0, 5702), {"pmin=x"}, true), bad);
  EXPECT_EQ(table.write(Path(3313, 0, 5702), {"foo=1"}, true), bad);
  EXPECT_EQ(table.at(Path(3313, 0, 5702)), nullptr);  // nothing stored by a refused write
}

TEST(AttributeTable, ClearsRemovesUnderAndIsBounded) {
  AttributeTable table;
  ASSERT_EQ(table.write(Path(3313, 0), {"pmin=1"}, false), coap_code(CoapCode::kChanged));
  ASSERT_EQ(table.write(Path(3313, 0), {"pmin"}, false),
            coap_code(CoapCode::kChanged));  // a bare name clears
  EXPECT_EQ(table.at(Path(3313, 0)), nullptr);
  ASSERT_EQ(table.write(Path(3313, 1), {"pmax=9"}, false), coap_code(CoapCode::kChanged));
  ASSERT_EQ(table.write(Path(3313, 1, 5702), {"pmax=8"}, false), coap_code(CoapCode::kChanged));
  table.remove_under(Path(3313, 1));
  EXPECT_EQ(table.at(Path(3313, 1)), nullptr);
  EXPECT_EQ(table.at(Path(3313, 1, 5702)), nullptr);
  for (uint16_t i = 0; i < 64; ++i)
    ASSERT_EQ(table.write(Path(3313, i), {"pmin=1"}, false), coap_code(CoapCode::kChanged));
  EXPECT_EQ(table.write(Path(3313, 64), {"pmin=1"}, false),
            coap_code(CoapCode::kInternalServerError));
}

}  // namespace
}  // namespace fogm2m::emulated
