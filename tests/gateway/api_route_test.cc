#include "gateway/api_route.h"

#include <gtest/gtest.h>

namespace fogm2m::gateway {
namespace {

ApiRoute ok(std::string_view method, std::string_view target) {
  auto r = parse_api_route(method, target);
  EXPECT_TRUE(r) << method << " " << target << ": " << (r ? "" : r.error().message);
  return r ? *r : ApiRoute{};
}

ErrorKind fails(std::string_view method, std::string_view target) {
  auto r = parse_api_route(method, target);
  EXPECT_FALSE(r) << method << " " << target << " parsed as " << (r ? to_string(r->op) : "");
  return r ? ErrorKind::kIo : r.error().kind;
}

TEST(ApiRoute, LeshanClientRoutes) {
  EXPECT_EQ(ok("GET", "/api/clients").op, ApiOperation::kListClients);
  auto client = ok("GET", "/api/clients/dev-1");
  EXPECT_EQ(client.op, ApiOperation::kGetClient);
  EXPECT_EQ(client.endpoint, "dev-1");

  auto read = ok("GET", "/api/clients/dev-1/3313/0/5702?format=TLV&timeout=5");
  EXPECT_EQ(read.op, ApiOperation::kRead);
  EXPECT_EQ(read.path, lwm2m::Path(3313, 0, 5702));
  ASSERT_NE(read.param("format"), nullptr);
  EXPECT_EQ(*read.param("format"), "TLV");
  EXPECT_EQ(*read.param("timeout"), "5");
  EXPECT_EQ(read.param("replace"), nullptr);

  EXPECT_EQ(ok("GET", "/api/clients/d/3/0/discover").op, ApiOperation::kDiscover);
  EXPECT_EQ(ok("GET", "/api/clients/d/3/discover").path, lwm2m::Path(3));
  EXPECT_EQ(ok("PUT", "/api/clients/d/3/0/14").op, ApiOperation::kWrite);
  EXPECT_EQ(ok("PUT", "/api/clients/d/3/0").op, ApiOperation::kWrite);
  EXPECT_EQ(ok("PUT", "/api/clients/d/3/0/14/attributes?pmin=1").op,
            ApiOperation::kWriteAttributes);
  EXPECT_EQ(ok("POST", "/api/clients/d/3/0/4").op, ApiOperation::kExecute);
  EXPECT_EQ(ok("POST", "/api/clients/d/3313").op, ApiOperation::kCreate);
  EXPECT_EQ(ok("POST", "/api/clients/d/3313/1").op, ApiOperation::kCreate);
  EXPECT_EQ(ok("DELETE", "/api/clients/d/3313/1").op, ApiOperation::kDelete);
  auto observe = ok("POST", "/api/clients/d/3313/0/5702/observe?format=SENML_JSON");
  EXPECT_EQ(observe.op, ApiOperation::kObserve);
  EXPECT_EQ(observe.path, lwm2m::Path(3313, 0, 5702));
  EXPECT_EQ(ok("DELETE", "/api/clients/d/3313/0/5702/observe").op, ApiOperation::kCancelObserve);
  // A trailing slash is tolerated.
  EXPECT_EQ(ok("GET", "/api/clients/d/3/0/").path, lwm2m::Path(3, 0));
}

TEST(ApiRoute, CompositeRoutes) {
  auto read = ok("GET", "/api/clients/d/composite?paths=/3/0/9,/3313/0&format=SENML_CBOR");
  EXPECT_EQ(read.op, ApiOperation::kReadComposite);
  EXPECT_EQ(read.endpoint, "d");
  EXPECT_TRUE(read.path.is_root());
  EXPECT_EQ(read.paths, (std::vector<lwm2m::Path>{lwm2m::Path(3, 0, 9), lwm2m::Path(3313, 0)}));
  EXPECT_EQ(*read.param("format"), "SENML_CBOR");
  // Escaped, with spaces after the commas, a trailing slash on the route.
  EXPECT_EQ(ok("GET", "/api/clients/d/composite/?paths=%2F3%2F0%2F9%2C%20/3/0/14").paths,
            (std::vector<lwm2m::Path>{lwm2m::Path(3, 0, 9), lwm2m::Path(3, 0, 14)}));
  auto write = ok("PUT", "/api/clients/d/composite");
  EXPECT_EQ(write.op, ApiOperation::kWriteComposite);
  EXPECT_TRUE(write.paths.empty());  // the body's
  auto observe = ok("POST", "/api/clients/d/composite/observe?paths=/3/0/15,/3313/0/5702");
  EXPECT_EQ(observe.op, ApiOperation::kObserveComposite);
  EXPECT_EQ(observe.paths.size(), 2u);
  auto cancel = ok("DELETE", "/api/clients/d/composite/observe?paths=/3/0/15,/3313/0/5702");
  EXPECT_EQ(cancel.op, ApiOperation::kCancelObserveComposite);
  EXPECT_EQ(cancel.paths, observe.paths);
  EXPECT_STREQ(to_string(ApiOperation::kCancelObserveComposite), "cancel_observe_composite");
  EXPECT_STREQ(to_string(ApiOperation::kAsset), "asset");

  EXPECT_EQ(fails("GET", "/api/clients/d/composite"), ErrorKind::kMalformed);  // no paths
  EXPECT_EQ(fails("GET", "/api/clients/d/composite?paths="), ErrorKind::kMalformed);
  EXPECT_EQ(fails("GET", "/api/clients/d/composite?paths=/3/x"), ErrorKind::kMalformed);
  EXPECT_EQ(fails("GET", "/api/clients/d/composite?paths=/"), ErrorKind::kMalformed);
  EXPECT_EQ(fails("GET", "/api/clients/d/composite?paths=/3/0/9,,/3/0/1"), ErrorKind::kMalformed);
  EXPECT_EQ(fails("GET", "/api/clients/d/composite?paths=/3/0/9,/3/0/9/"), ErrorKind::kMalformed);
  EXPECT_EQ(fails("POST", "/api/clients/d/composite?paths=/3/0/9"), ErrorKind::kUnsupported);
  EXPECT_EQ(fails("GET", "/api/clients/d/composite/observe?paths=/3/0/9"), ErrorKind::kUnsupported);
  EXPECT_EQ(fails("GET", "/api/clients/d/composite/discover?paths=/3/0/9"), ErrorKind::kNotFound);
  EXPECT_EQ(fails("GET", "/api/clients/d/composite/observe/x?paths=/3/0/9"), ErrorKind::kNotFound);
}

TEST(ApiRoute, OtherRoutes) {
  EXPECT_EQ(ok("GET", "/api/security/clients").op, ApiOperation::kListSecurity);
  EXPECT_EQ(ok("PUT", "/api/security/clients").op, ApiOperation::kPutSecurity);
  auto del = ok("DELETE", "/api/security/clients/a%2Fb");
  EXPECT_EQ(del.op, ApiOperation::kDeleteSecurity);
  EXPECT_EQ(del.endpoint, "a/b");
  auto events = ok("GET", "/api/event?ep=dev%201");
  EXPECT_EQ(events.op, ApiOperation::kEvents);
  EXPECT_EQ(*events.param("ep"), "dev 1");
  EXPECT_EQ(ok("GET", "/api/objectspecs").op, ApiOperation::kObjectSpecs);
  EXPECT_EQ(ok("GET", "/api/objectspecs/dev-1").op, ApiOperation::kObjectSpecs);
  EXPECT_EQ(ok("GET", "/metrics").op, ApiOperation::kMetrics);
  EXPECT_EQ(ok("GET", "/ws").op, ApiOperation::kStomp);
  auto index = ok("GET", "/");
  EXPECT_EQ(index.op, ApiOperation::kAsset);
  EXPECT_EQ(index.asset, "index.html");
  EXPECT_EQ(ok("GET", "/app.js?v=2").asset, "app.js");
}

TEST(ApiRoute, EscapesAreDecoded) {
  auto r = ok("GET", "/api/clients/urn%3Aimei%3A35/3/0?format=senml%2Bjson&x=a+b&flag");
  EXPECT_EQ(r.endpoint, "urn:imei:35");
  EXPECT_EQ(*r.param("format"), "senml+json");
  EXPECT_EQ(*r.param("x"), "a b");
  EXPECT_EQ(*r.param("flag"), "");
  // '+' stays '+' in a path segment.
  EXPECT_EQ(ok("GET", "/api/clients/a+b").endpoint, "a+b");
}

TEST(ApiRoute, ErrorsPickTheStatus) {
  EXPECT_EQ(fails("GET", "/api/nothing"), ErrorKind::kNotFound);
  EXPECT_EQ(fails("GET", "/a/b"), ErrorKind::kNotFound);
  EXPECT_EQ(fails("POST", "/api/clients"), ErrorKind::kUnsupported);
  EXPECT_EQ(fails("PATCH", "/api/clients/d/3/0"), ErrorKind::kUnsupported);
  EXPECT_EQ(fails("GET", "/api/clients/d/3/0/attributes"), ErrorKind::kUnsupported);
  EXPECT_EQ(fails("DELETE", "/metrics"), ErrorKind::kUnsupported);
  EXPECT_EQ(fails("GET", "/api/clients/d/x/0"), ErrorKind::kMalformed);
  EXPECT_EQ(fails("GET", "/api/clients/d/3/0/1/2/3"), ErrorKind::kMalformed);
  EXPECT_EQ(fails("GET", "/api/clients/d/70000"), ErrorKind::kMalformed);
  EXPECT_EQ(fails("PUT", "/api/clients/d/3"), ErrorKind::kMalformed);  // write needs /o/i
  EXPECT_EQ(fails("DELETE", "/api/clients/d/3/0/1"), ErrorKind::kMalformed);
  EXPECT_EQ(fails("POST", "/api/clients/d/3/0/1/0"), ErrorKind::kMalformed);
  EXPECT_EQ(fails("GET", "/api/clients/%zz"), ErrorKind::kMalformed);
  EXPECT_EQ(fails("GET", "/api/clients//3"), ErrorKind::kMalformed);
  // Found by the fuzzer: an empty segment made a read of the root path.
  EXPECT_EQ(fails("GET", "/api/clients/d//"), ErrorKind::kMalformed);
  EXPECT_EQ(fails("GET", "/api/clients/d/3//0"), ErrorKind::kMalformed);
  EXPECT_EQ(fails("GET", "/api/clients/d?x=%4"), ErrorKind::kMalformed);
  EXPECT_EQ(fails("GET", "api/clients"), ErrorKind::kMalformed);
  EXPECT_EQ(fails("GET", ""), ErrorKind::kMalformed);
  EXPECT_EQ(fails("GET", "/" + std::string(kMaxTargetLength, 'a')), ErrorKind::kMalformed);
}

TEST(ApiRoute, PercentDecode) {
  EXPECT_EQ(*percent_decode("a%20b%2fc", false), "a b/c");
  EXPECT_EQ(*percent_decode("a+b", true), "a b");
  EXPECT_EQ(*percent_decode("a+b", false), "a+b");
  EXPECT_FALSE(percent_decode("%", false));
  EXPECT_FALSE(percent_decode("%a", false));
  EXPECT_FALSE(percent_decode("%g0", false));
}

}  // namespace
}  // namespace fogm2m::gateway
