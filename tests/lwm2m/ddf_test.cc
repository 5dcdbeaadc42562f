// Tests of the OMA DDF (object definition XML) loader.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "lwm2m/model.h"

namespace fogm2m::lwm2m {
namespace {

namespace fs = std::filesystem;

const fs::path kDataDir = fs::path(FOGM2M_SOURCE_DIR) / "tests" / "data";
const fs::path kGoodDir = kDataDir / "ddf";
const fs::path kBrokenDir = kDataDir / "ddf-broken";

// A minimal valid document around `items` (the <Item> elements of one object).
std::string document(const std::string& items, const std::string& object_extra = "") {
  return R"(<?xml version="1.0"?>
<LWM2M>
  <Object ObjectType="MODefinition">
    <Name>Test</Name>
    <ObjectID>20000</ObjectID>
    <MultipleInstances>Single</MultipleInstances>
    <Mandatory>Optional</Mandatory>
)" + object_extra +
         "    <Resources>\n" + items +
         R"(    </Resources>
  </Object>
</LWM2M>
)";
}

std::string item(const std::string& id, const std::string& ops, const std::string& type,
                 const std::string& multiple = "Single") {
  return "<Item ID=\"" + id + "\"><Name>R" + id + "</Name><Operations>" + ops +
         "</Operations><MultipleInstances>" + multiple +
         "</MultipleInstances><Mandatory>Optional</Mandatory><Type>" + type +
         "</Type><RangeEnumeration/><Units/><Description/></Item>\n";
}

// ---- parse_ddf ------------------------------------------------------------

TEST(DdfParseTest, ParsesOperationsSpellings) {
  auto models = parse_ddf(
      document(item("0", "R", "String") + item("1", "W", "Integer") + item("2", " RW ", "Float") +
               item("3", "E", "") + item("4", "", "Opaque") + item("5", "rw", "Boolean")),
      "ops.xml");
  ASSERT_TRUE(models.ok()) << models.error().message;
  ASSERT_EQ(models->size(), 1u);
  const ObjectModel& m = models->front();
  ASSERT_EQ(m.resources.size(), 6u);
  EXPECT_EQ(m.resource(0)->operations, kOpRead);
  EXPECT_EQ(m.resource(1)->operations, kOpWrite);
  EXPECT_EQ(m.resource(2)->operations, kOpRead | kOpWrite);
  EXPECT_EQ(m.resource(3)->operations, kOpExecute);
  EXPECT_EQ(m.resource(3)->type, ResourceType::kNone);
  EXPECT_EQ(m.resource(4)->operations, kOpNone);
  EXPECT_EQ(m.resource(5)->operations, kOpRead | kOpWrite);
}

TEST(DdfParseTest, DefaultsWhenOptionalElementsAreMissing) {
  // No URN, versions, description; Item without Type/Range/Units/Description.
  auto models = parse_ddf(document("<Item ID=\"9\"><Name>Go</Name><Operations>E</Operations>"
                                   "<MultipleInstances>Single</MultipleInstances>"
                                   "<Mandatory>Mandatory</Mandatory></Item>\n"),
                          "defaults.xml");
  ASSERT_TRUE(models.ok()) << models.error().message;
  const ObjectModel& m = models->front();
  EXPECT_EQ(m.id, 20000);
  EXPECT_EQ(m.urn, "");
  EXPECT_EQ(m.version, "1.0");
  EXPECT_EQ(m.lwm2m_version, "1.0");
  EXPECT_FALSE(m.multiple);
  EXPECT_FALSE(m.mandatory);
  ASSERT_NE(m.resource(9), nullptr);
  EXPECT_EQ(m.resource(9)->type, ResourceType::kNone);
  EXPECT_TRUE(m.resource(9)->mandatory);
  EXPECT_EQ(m.resource(9)->range, "");
}

TEST(DdfParseTest, SeveralObjectsInOneDocument) {
  const std::string xml = R"(<LWM2M>
<Object><Name>A</Name><ObjectID>30001</ObjectID><MultipleInstances>Multiple</MultipleInstances>
<Mandatory>Mandatory</Mandatory><Resources/></Object>
<Object><Name>B</Name><ObjectID>30002</ObjectID><MultipleInstances>Single</MultipleInstances>
<Mandatory>Optional</Mandatory><Resources>)" +
                          item("1", "R", "Unsigned Integer", "Multiple") + R"(</Resources></Object>
</LWM2M>)";
  auto models = parse_ddf(xml, "two.xml");
  ASSERT_TRUE(models.ok()) << models.error().message;
  ASSERT_EQ(models->size(), 2u);
  EXPECT_EQ((*models)[0].id, 30001);
  EXPECT_TRUE((*models)[0].multiple);
  EXPECT_TRUE((*models)[0].mandatory);
  EXPECT_TRUE((*models)[0].resources.empty());
  EXPECT_EQ((*models)[1].id, 30002);
  EXPECT_EQ((*models)[1].resource(1)->type, ResourceType::kUnsignedInteger);
  EXPECT_TRUE((*models)[1].resource(1)->multiple);
}

TEST(DdfParseTest, SameObjectTwiceInOneDocumentIsAnError) {
  const std::string obj =
      "<Object><Name>A</Name><ObjectID>7</ObjectID><MultipleInstances>Single</MultipleInstances>"
      "<Mandatory>Optional</Mandatory></Object>";
  auto models = parse_ddf("<LWM2M>" + obj + obj + "</LWM2M>", "twice.xml");
  ASSERT_FALSE(models.ok());
  EXPECT_EQ(models.error().message, "twice.xml: Object[1]/ObjectID: object ID 7 defined twice");
}

TEST(DdfParseTest, ErrorNamesSourceAndElement) {
  auto models = parse_ddf(document(item("5702", "R", "Flot")), "3313.xml");
  ASSERT_FALSE(models.ok());
  EXPECT_EQ(models.error().kind, ErrorKind::kMalformed);
  EXPECT_EQ(models.error().message,
            "3313.xml: Object[0]/Resources/Item[ID=5702]/Type: unknown type \"Flot\"");
}

TEST(DdfParseTest, RejectsBadVersions) {
  auto models =
      parse_ddf(document(item("1", "R", "String"), "<ObjectVersion>v2</ObjectVersion>\n"), "v.xml");
  ASSERT_FALSE(models.ok());
  EXPECT_EQ(models.error().message,
            "v.xml: Object[0]/ObjectVersion: expected a version like 1.0, got \"v2\"");
}

TEST(DdfParseTest, MissingItemElementsAreNamed) {
  auto no_ops = parse_ddf(document("<Item ID=\"3\"><Name>X</Name>"
                                   "<MultipleInstances>Single</MultipleInstances>"
                                   "<Mandatory>Optional</Mandatory><Type>String</Type></Item>"),
                          "m.xml");
  ASSERT_FALSE(no_ops.ok());
  EXPECT_EQ(no_ops.error().message, "m.xml: Object[0]/Resources/Item[ID=3]: missing Operations");

  auto no_id =
      parse_ddf(document(item("1", "R", "String") + "<Item><Name>X</Name></Item>"), "m.xml");
  ASSERT_FALSE(no_id.ok());
  EXPECT_EQ(no_id.error().message, "m.xml: Object[0]/Resources/Item[1]: missing ID attribute");

  auto no_name = parse_ddf(document("<Item ID=\"4\"><Operations>R</Operations></Item>"), "m.xml");
  ASSERT_FALSE(no_name.ok());
  EXPECT_EQ(no_name.error().message, "m.xml: Object[0]/Resources/Item[ID=4]: missing Name");
}

TEST(DdfParseTest, NeverThrowsOnGarbage) {
  const std::vector<std::string> inputs = {
      "",
      "   ",
      "not xml at all",
      "<",
      "<LWM2M>",
      "<LWM2M><Object>",
      "<?xml version=\"1.0\"?>",
      std::string("\0\0\0", 3),
      "<LWM2M><Object><ObjectID>&bogus;</ObjectID></Object></LWM2M>",
      "<a><b></a>"};
  for (const std::string& in : inputs) {
    SCOPED_TRACE(in);
    Result<std::vector<ObjectModel>> r = std::vector<ObjectModel>{};
    EXPECT_NO_THROW(r = parse_ddf(in, "garbage.xml"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message.rfind("garbage.xml", 0), 0u) << r.error().message;
  }
}

// ---- load_ddf_file / load_ddf_directory -----------------------------------

TEST(DdfLoadTest, LoadsTheTestDataDirectory) {
  ModelRegistry registry;
  Result<size_t> n = load_ddf_directory(kGoodDir, registry);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 3u);
  EXPECT_EQ(registry.object_ids(), (std::vector<uint16_t>{3303, 3313, 10250}));
}

TEST(DdfLoadTest, DirectoryReplacesExistingModels) {
  ModelRegistry registry = ModelRegistry::builtin();
  ObjectModel stale;
  stale.id = 10250;
  stale.name = "Stale";
  registry.add(stale);
  Result<size_t> n = load_ddf_directory(kGoodDir, registry);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(registry.size(), 9u);
  EXPECT_EQ(registry.find(10250)->name, "Fog Node Probe");
}

// The DDF test data and the built-in table are two encodings of the same OMA
// definitions; they must agree on everything codecs and servers rely on.
TEST(DdfLoadTest, LoadedIpsoObjectsEqualTheBuiltins) {
  const ModelRegistry builtin = ModelRegistry::builtin();
  for (uint16_t id : {3303, 3313}) {
    SCOPED_TRACE(id);
    auto models = load_ddf_file(kGoodDir / (std::to_string(id) + ".xml"));
    ASSERT_TRUE(models.ok()) << models.error().message;
    ASSERT_EQ(models->size(), 1u);
    const ObjectModel& loaded = models->front();
    const ObjectModel* expected = builtin.find(id);
    ASSERT_NE(expected, nullptr);
    EXPECT_EQ(loaded.id, expected->id);
    EXPECT_EQ(loaded.name, expected->name);
    EXPECT_EQ(loaded.urn, expected->urn);
    EXPECT_EQ(loaded.version, expected->version);
    EXPECT_EQ(loaded.lwm2m_version, expected->lwm2m_version);
    EXPECT_EQ(loaded.multiple, expected->multiple);
    EXPECT_EQ(loaded.mandatory, expected->mandatory);
    ASSERT_EQ(loaded.resources.size(), expected->resources.size());
    for (size_t i = 0; i < loaded.resources.size(); ++i) {
      const ResourceModel& a = loaded.resources[i];
      const ResourceModel& b = expected->resources[i];
      SCOPED_TRACE(b.id);
      EXPECT_EQ(a.id, b.id);
      EXPECT_EQ(a.name, b.name);
      EXPECT_EQ(a.operations, b.operations);
      EXPECT_EQ(a.multiple, b.multiple);
      EXPECT_EQ(a.mandatory, b.mandatory);
      EXPECT_EQ(a.type, b.type);
      EXPECT_EQ(a.range, b.range);
      EXPECT_EQ(a.units, b.units);
    }
  }
}

TEST(DdfLoadTest, VendorObjectFields) {
  auto models = load_ddf_file(kGoodDir / "10250.xml");
  ASSERT_TRUE(models.ok()) << models.error().message;
  const ObjectModel& m = models->front();
  EXPECT_EQ(m.id, 10250);
  EXPECT_EQ(m.name, "Fog Node Probe");
  EXPECT_EQ(m.urn, "urn:oma:lwm2m:x:10250:2.1");
  EXPECT_EQ(m.version, "2.1");
  EXPECT_EQ(m.lwm2m_version, "1.1");
  EXPECT_FALSE(m.multiple);
  EXPECT_EQ(m.description,
            "Health of a fog node as seen by a device.\nSecond line of the description.");
  ASSERT_EQ(m.resources.size(), 10u);

  const ResourceModel* name = m.resource(0);
  EXPECT_EQ(name->type, ResourceType::kString);
  EXPECT_EQ(name->operations, kOpRead | kOpWrite);
  EXPECT_TRUE(name->mandatory);
  EXPECT_EQ(name->range, "0..64 bytes");
  EXPECT_EQ(name->description, "Name of the node & its site.");

  EXPECT_EQ(m.resource(1)->type, ResourceType::kUnsignedInteger);
  EXPECT_TRUE(m.resource(1)->multiple);
  EXPECT_EQ(m.resource(1)->units, "ms");
  EXPECT_EQ(m.resource(2)->type, ResourceType::kFloat);  // elements out of order
  EXPECT_EQ(m.resource(2)->units, "%");
  EXPECT_EQ(m.resource(2)->description, "");
  EXPECT_EQ(m.resource(3)->operations, kOpWrite);
  EXPECT_EQ(m.resource(3)->range, "-100..100");
  EXPECT_EQ(m.resource(4)->type, ResourceType::kBoolean);
  EXPECT_EQ(m.resource(5)->operations, kOpNone);
  EXPECT_EQ(m.resource(5)->type, ResourceType::kOpaque);
  EXPECT_EQ(m.resource(6)->type, ResourceType::kTime);
  EXPECT_EQ(m.resource(7)->type, ResourceType::kObjlnk);
  EXPECT_EQ(m.resource(8)->type, ResourceType::kCorelnk);
  EXPECT_TRUE(m.resource(9)->executable());
  EXPECT_EQ(m.resource(9)->type, ResourceType::kNone);
}

struct BrokenCase {
  const char* file;
  ErrorKind kind;
  const char* message;  // after "<path>: "
};

class DdfBrokenFileTest : public ::testing::TestWithParam<BrokenCase> {};

TEST_P(DdfBrokenFileTest, ErrorNamesFileAndElement) {
  const BrokenCase& c = GetParam();
  const fs::path file = kBrokenDir / c.file;
  ASSERT_TRUE(fs::exists(file)) << file;
  Result<std::vector<ObjectModel>> models = std::vector<ObjectModel>{};
  EXPECT_NO_THROW(models = load_ddf_file(file));
  ASSERT_FALSE(models.ok());
  EXPECT_EQ(models.error().kind, c.kind) << models.error().message;
  EXPECT_EQ(models.error().message, file.string() + ": " + c.message);
}

INSTANTIATE_TEST_SUITE_P(
    Ddf, DdfBrokenFileTest,
    ::testing::Values(
        BrokenCase{"unknown_type.xml", ErrorKind::kMalformed,
                   "Object[0]/Resources/Item[ID=5702]/Type: unknown type \"Flot\""},
        BrokenCase{"missing_object_id.xml", ErrorKind::kMalformed, "Object[0]: missing ObjectID"},
        BrokenCase{"bad_object_id.xml", ErrorKind::kMalformed,
                   "Object[0]/ObjectID: object ID \"33x3\" is not a number"},
        BrokenCase{"object_id_out_of_range.xml", ErrorKind::kInvalidArgument,
                   "Object[0]/ObjectID: object ID 70000 is out of range 0..65534"},
        BrokenCase{"bad_resource_id.xml", ErrorKind::kMalformed,
                   "Object[0]/Resources/Item[1]: resource ID \"five\" is not a number"},
        BrokenCase{"resource_id_out_of_range.xml", ErrorKind::kInvalidArgument,
                   "Object[0]/Resources/Item[0]: resource ID 65535 is out of range 0..65534"},
        BrokenCase{"duplicate_resource.xml", ErrorKind::kInvalidArgument,
                   "Object[0]/Resources/Item[ID=5702]: duplicate resource ID 5702"},
        BrokenCase{"unknown_operations.xml", ErrorKind::kMalformed,
                   "Object[0]/Resources/Item[ID=5703]/Operations: unknown operations \"RX\" "
                   "(expected R, W, RW, E or empty)"},
        BrokenCase{"bad_multiplicity.xml", ErrorKind::kMalformed,
                   "Object[0]/Resources/Item[ID=5702]/MultipleInstances: expected Multiple or "
                   "Single, got \"Many\""},
        BrokenCase{"bad_mandatory.xml", ErrorKind::kMalformed,
                   "Object[0]/Mandatory: expected Mandatory or Optional, got \"Required\""},
        BrokenCase{"no_object.xml", ErrorKind::kMalformed, "LWM2M: no Object element"},
        BrokenCase{"no_root.xml", ErrorKind::kMalformed, "missing <LWM2M> root element"}),
    [](const ::testing::TestParamInfo<BrokenCase>& param_info) {
      std::string name = param_info.param.file;
      name = name.substr(0, name.find('.'));
      return name;
    });

TEST(DdfLoadTest, MalformedXmlGivesTheParsersLine) {
  const fs::path file = kBrokenDir / "malformed.xml";
  auto models = load_ddf_file(file);
  ASSERT_FALSE(models.ok());
  EXPECT_EQ(models.error().kind, ErrorKind::kMalformed);
  // Line 24 holds <Item ID=5703> with an unquoted attribute value.
  const std::string prefix = file.string() + ":24: malformed XML: ";
  EXPECT_EQ(models.error().message.rfind(prefix, 0), 0u) << models.error().message;
}

TEST(DdfLoadTest, MissingFileIsNotFound) {
  const fs::path file = kDataDir / "no-such-dir" / "nothing.xml";
  auto models = load_ddf_file(file);
  ASSERT_FALSE(models.ok());
  EXPECT_EQ(models.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(models.error().message.rfind(file.string() + ": cannot open", 0), 0u)
      << models.error().message;
}

TEST(DdfLoadTest, DirectoryIsNotAFile) {
  auto models = load_ddf_file(kGoodDir);
  ASSERT_FALSE(models.ok());
  EXPECT_EQ(models.error().kind, ErrorKind::kIo);
}

TEST(DdfLoadTest, MissingDirectoryIsNotFound) {
  ModelRegistry registry;
  Result<size_t> n = load_ddf_directory(kDataDir / "no-such-dir", registry);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(registry.size(), 0u);
}

TEST(DdfLoadTest, BrokenDirectoryFailsAndLeavesRegistryUntouched) {
  ModelRegistry registry = ModelRegistry::builtin();
  Result<size_t> n = load_ddf_directory(kBrokenDir, registry);
  ASSERT_FALSE(n.ok());
  // Files load in name order: bad_mandatory.xml is the first broken one.
  EXPECT_NE(n.error().message.find("bad_mandatory.xml: "), std::string::npos) << n.error().message;
  EXPECT_EQ(registry.size(), ModelRegistry::builtin().size());
}

TEST(DdfLoadTest, EmptyDirectoryLoadsNothing) {
  const fs::path dir =
      fs::temp_directory_path() / ("fogm2m-ddf-empty-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  ModelRegistry registry;
  Result<size_t> n = load_ddf_directory(dir, registry);
  fs::remove_all(dir);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 0u);
}

}  // namespace
}  // namespace fogm2m::lwm2m
