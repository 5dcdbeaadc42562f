// Requests on the bus: every kind parses and round-trips, malformed ones say
// why and keep what can be answered.
#include "bus/request.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace fogm2m::bus {
namespace {

TEST(BusRequest, ParsesTheThesisReadRequest) {
  auto p = parse_request(
      R"({"ep":"dev-1","ticket":"7f1c","req":{"kind":"observe","path":"/3303/0/5700","contentFormat":"JSON"}})");
  ASSERT_TRUE(p.request.ok()) << p.request.error().message;
  EXPECT_EQ(p.request->endpoint, "dev-1");
  EXPECT_EQ(p.request->ticket, "7f1c");
  EXPECT_EQ(p.request->kind, RequestKind::kObserve);
  EXPECT_EQ(p.request->path, lwm2m::Path(3303, 0, 5700));
  EXPECT_EQ(p.request->content_format, lwm2m::ContentFormat::kLwm2mJson);
}

TEST(BusRequest, EveryKindRoundTrips) {
  const char* requests[] = {
      R"({"ep":"d","ticket":"1","req":{"kind":"read","path":"/3/0"}})",
      R"({"ep":"d","ticket":"2","req":{"kind":"discover","path":"/3313"}})",
      R"({"ep":"d","ticket":"3","req":{"kind":"write","path":"/3/0/14","mode":"update","value":"+02"}})",
      R"({"ep":"d","ticket":"4","req":{"kind":"execute","path":"/3/0/4","parameters":"0='x'"}})",
      R"({"ep":"d","ticket":"5","req":{"kind":"create","path":"/3313","node":{"id":1,"resources":[]}}})",
      R"({"ep":"d","ticket":"6","req":{"kind":"delete","path":"/3313/1"}})",
      R"({"ep":"d","ticket":"7","req":{"kind":"cancelObservation","path":"/3313/0/5702"}})",
      R"({"ep":"d","ticket":"8","req":{"kind":"writeAttributes","path":"/3313/0/5702","attributes":{"pmin":1,"pmax":10,"st":0.5}}})",
      R"({"ep":"d","ticket":"9","req":{"kind":"sec_info","action":"add","identity":"id","key":"0102"}})",
  };
  for (const char* text : requests) {
    auto p = parse_request(text);
    ASSERT_TRUE(p.request.ok()) << text << ": " << p.request.error().message;
    auto again = parse_request(format_request(*p.request));
    ASSERT_TRUE(again.request.ok()) << format_request(*p.request);
    EXPECT_EQ(again.request->kind, p.request->kind);
    EXPECT_EQ(again.request->path, p.request->path);
    EXPECT_EQ(again.request->replace, p.request->replace);
  }
  auto wa = parse_request(requests[7]);
  EXPECT_EQ(wa.request->attributes.to_queries(),
            (std::vector<std::string>{"pmin=1", "pmax=10", "st=0.5"}));
}

TEST(BusRequest, MalformedKeepsTheTicketWhenReadable) {
  struct Case {
    const char* text;
    bool has_ticket;
    const char* reason;
  };
  for (
      const Case& c : {
          Case{"{not json", false, "invalid JSON"},
          Case{"[1,2]", false, "not a JSON object"},
          Case{R"({"ep":"d","req":{"kind":"read","path":"/3"}})", false, "ticket"},
          Case{R"({"ep":"d","ticket":5,"req":{}})", false, "ticket"},
          Case{R"({"ticket":"t","req":{"kind":"read","path":"/3"}})", true, "\"ep\""},
          Case{R"({"ep":"d","ticket":"t"})", true, "\"req\""},
          Case{R"({"ep":"d","ticket":"t","req":{"kind":"frobnicate","path":"/3"}})", true,
               "unknown kind"},
          Case{R"({"ep":"d","ticket":"t","req":{"kind":"read","path":"3/0"}})", true,
               "must start with '/'"},
          Case{R"({"ep":"d","ticket":"t","req":{"kind":"read","path":"/"}})", true,
               "addresses no object"},
          Case{R"({"ep":"d","ticket":"t","req":{"kind":"read","path":"/3","contentFormat":"XML"}})",
               true, "contentFormat"},
          Case{R"({"ep":"d","ticket":"t","req":{"kind":"write","path":"/3/0/14"}})", true,
               "needs \"node\""},
          Case{
              R"({"ep":"d","ticket":"t","req":{"kind":"write","path":"/3/0/14","mode":"merge","value":1}})",
              true, "mode"},
          Case{
              R"({"ep":"d","ticket":"t","req":{"kind":"writeAttributes","path":"/3","attributes":{"pmin":-1}}})",
              true, "pmin"},
          Case{
              R"({"ep":"d","ticket":"t","req":{"kind":"writeAttributes","path":"/3","attributes":{"foo":1}}})",
              true, "unknown attribute"},
          // Found by bus_request_fuzz: a huge period must not overflow the integer conversion.
          Case{
              R"({"ep":"d","ticket":"t","req":{"kind":"writeAttributes","path":"/3","attributes":{"pmin":4.5e89}}})",
              true, "pmin"},
          // Found by bus_request_fuzz: a number too large for a double reads
          // as infinity, which no number of a request may be (it could not
          // be written back as JSON).
          Case{
              R"({"ep":"d","ticket":"A","req":{"kind":"writeAttributes","path":"/8109/0/5702","attributes":{"gt":4E550006198}}})",
              true, "finite"},
          Case{
              R"({"ep":"d","ticket":"t","req":{"kind":"writeAttributes","path":"/3","attributes":{"st":-1e999}}})",
              true, "finite"},
          Case{
              R"({"ep":"d","ticket":"B","req":{"kind":"write","path":"/3313/0/5702","node":{"id":5702,"value":-1e999}}})",
              true, "finite"},
          Case{
              R"({"ep":"d","ticket":"C","req":{"kind":"create","path":"/3313","node":{"id":1,"resources":[{"id":5603,"value":[1e400]}]}}})",
              true, "finite"},
          Case{R"({"ep":"d","ticket":"t","req":{"kind":"sec_info","action":"add","identity":"x"}})",
               true, "key"},
      }) {
    auto p = parse_request(c.text);
    ASSERT_FALSE(p.request.ok()) << c.text;
    EXPECT_EQ(p.ticket.has_value(), c.has_ticket) << c.text;
    EXPECT_NE(p.request.error().message.find(c.reason), std::string::npos)
        << p.request.error().message;
  }
}

TEST(BusRequest, KindsHaveBothSpellings) {
  for (RequestKind k : kAllRequestKinds) EXPECT_EQ(parse_request_kind(to_string(k)), k);
  EXPECT_EQ(parse_request_kind("cancelObservation"), RequestKind::kCancelObserve);
  EXPECT_EQ(parse_request_kind("exec"), RequestKind::kExecute);
  EXPECT_EQ(parse_request_kind("readComposite"), RequestKind::kReadComposite);
  EXPECT_EQ(parse_request_kind("cancelCompositeObservation"), RequestKind::kCancelObserveComposite);
  EXPECT_EQ(parse_request_kind("frobnicate"), std::nullopt);
}

TEST(BusRequest, FormatsWhatItParses) {
  Request r;
  r.endpoint = "dev-\"1";
  r.ticket = "t-1";
  r.kind = RequestKind::kWrite;
  r.path = lwm2m::Path(3, 0, 14);
  r.replace = false;
  r.node = single_value_node(r.path, boost::json::value("+02"));
  r.content_format = lwm2m::ContentFormat::kText;
  auto back = parse_request(format_request(r));
  ASSERT_TRUE(back.request.ok()) << back.request.error().message;
  EXPECT_EQ(back.request->endpoint, r.endpoint);
  EXPECT_EQ(back.request->replace, false);
  EXPECT_EQ(*back.request->node, *r.node);
  EXPECT_EQ(back.request->content_format, r.content_format);
}

// ---- Composite kinds ------------------------------------------------------------------------

TEST(BusRequest, CompositeKindsRoundTrip) {
  const char* requests[] = {
      R"({"ep":"d","ticket":"c1","req":{"kind":"read_composite","paths":["/3/0/9","/3313/0"]}})",
      R"({"ep":"d","ticket":"c2","req":{"kind":"readComposite","paths":["/3/0/9"],"contentFormat":"SENML_CBOR"}})",
      R"({"ep":"d","ticket":"c3","req":{"kind":"observeComposite","paths":["/3/0/9","/3313/0/5702"],"contentFormat":110}})",
      R"({"ep":"d","ticket":"c4","req":{"kind":"cancel_observe_composite","paths":["/3313/0/5702","/3/0/9"]}})",
      R"({"ep":"d","ticket":"c5","req":{"kind":"cancelCompositeObservation","observeTicket":"c3"}})",
      R"({"ep":"d","ticket":"c6","req":{"kind":"write_composite","nodes":{"/3/0/15":{"id":15,"value":"UTC"},"/3/0/14":{"id":14,"value":"+02"}}}})",
      R"({"ep":"d","ticket":"c7","req":{"kind":"writeComposite","values":{"/3/0/15":"UTC","/3/0/14/":"+02"}}})",
  };
  for (const char* text : requests) {
    auto p = parse_request(text);
    ASSERT_TRUE(p.request.ok()) << text << ": " << p.request.error().message;
    EXPECT_TRUE(is_composite(p.request->kind)) << text;
    EXPECT_TRUE(p.request->path.is_root());
    const std::string formatted = format_request(*p.request);
    EXPECT_EQ(formatted.find("\"path\""), std::string::npos) << formatted;
    auto again = parse_request(formatted);
    ASSERT_TRUE(again.request.ok()) << formatted << ": " << again.request.error().message;
    EXPECT_EQ(again.request->kind, p.request->kind);
    EXPECT_EQ(again.request->paths, p.request->paths);
    EXPECT_EQ(again.request->content_format, p.request->content_format);
    EXPECT_EQ(again.request->node, p.request->node);
    EXPECT_EQ(again.request->observe_ticket, p.request->observe_ticket);
    EXPECT_EQ(format_request(*again.request), formatted);
  }
  auto read = parse_request(requests[0]);
  EXPECT_EQ(read.request->kind, RequestKind::kReadComposite);
  EXPECT_EQ(read.request->paths,
            (std::vector<lwm2m::Path>{lwm2m::Path(3, 0, 9), lwm2m::Path(3313, 0)}));
  EXPECT_EQ(read.request->content_format, std::nullopt);  // SenML JSON by default, at the node
  EXPECT_EQ(
      format_request(*read.request),
      R"({"ep":"d","ticket":"c1","req":{"kind":"read_composite","paths":["/3/0/9","/3313/0"]}})");
  auto cbor = parse_request(requests[1]);
  EXPECT_EQ(cbor.request->content_format, lwm2m::ContentFormat::kSenmlCbor);
  auto observe = parse_request(requests[2]);
  EXPECT_EQ(observe.request->kind, RequestKind::kObserveComposite);
  EXPECT_EQ(observe.request->content_format, lwm2m::ContentFormat::kSenmlJson);
  auto cancel = parse_request(requests[4]);
  EXPECT_EQ(cancel.request->kind, RequestKind::kCancelObserveComposite);
  EXPECT_EQ(cancel.request->observe_ticket, "c3");
  // Both ways of writing give the same nodes, by canonical path.
  auto nodes = parse_request(requests[5]);
  auto values = parse_request(requests[6]);
  ASSERT_TRUE(nodes.request->node && values.request->node);
  EXPECT_EQ(*nodes.request->node, *values.request->node);
  auto pairs = composite_nodes(*values.request);
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0].first, lwm2m::Path(3, 0, 15));
  EXPECT_EQ(*pairs[0].second, boost::json::parse(R"({"id":15,"value":"UTC"})"));
  EXPECT_EQ(pairs[1].first, lwm2m::Path(3, 0, 14));
}

TEST(BusRequest, MalformedCompositeRequestsSayWhy) {
  struct Case {
    const char* text;
    const char* reason;
  };
  for (
      const Case& c : {
          Case{R"({"ep":"d","ticket":"t","req":{"kind":"read_composite"}})", "needs \"paths\""},
          Case{R"({"ep":"d","ticket":"t","req":{"kind":"read_composite","paths":[]}})",
               "needs \"paths\""},
          Case{R"({"ep":"d","ticket":"t","req":{"kind":"read_composite","paths":"/3/0/9"}})",
               "array"},
          Case{R"({"ep":"d","ticket":"t","req":{"kind":"read_composite","paths":[3]}})", "array"},
          Case{R"({"ep":"d","ticket":"t","req":{"kind":"read_composite","paths":["/"]}})",
               "addresses no object"},
          Case{R"({"ep":"d","ticket":"t","req":{"kind":"read_composite","paths":["/x"]}})",
               "paths"},
          Case{
              R"({"ep":"d","ticket":"t","req":{"kind":"observe_composite","paths":["/3/0/9","/3/0/9/"]}})",
              "listed twice"},
          Case{
              R"({"ep":"d","ticket":"t","req":{"kind":"read_composite","paths":["/3/0/9"],"contentFormat":"TLV"}})",
              "SENML_JSON or SENML_CBOR"},
          Case{R"({"ep":"d","ticket":"t","req":{"kind":"cancel_observe_composite"}})",
               "observeTicket"},
          Case{R"({"ep":"d","ticket":"t","req":{"kind":"write_composite"}})", "\"nodes\""},
          Case{R"({"ep":"d","ticket":"t","req":{"kind":"write_composite","nodes":{}}})",
               "\"nodes\""},
          Case{
              R"({"ep":"d","ticket":"t","req":{"kind":"write_composite","nodes":{"/3/0/15":"UTC"}}})",
              "not an object"},
          Case{
              R"({"ep":"d","ticket":"t","req":{"kind":"write_composite","values":{"/3/0":"UTC"}}})",
              "resource paths"},
          Case{
              R"({"ep":"d","ticket":"t","req":{"kind":"write_composite","values":{"/3/0/15":"a","/3/0/15/":"b"}}})",
              "twice"},
      }) {
    auto p = parse_request(c.text);
    ASSERT_FALSE(p.request.ok()) << c.text;
    EXPECT_EQ(p.ticket, "t");
    EXPECT_NE(p.request.error().message.find(c.reason), std::string::npos)
        << c.text << ": " << p.request.error().message;
  }
}

}  // namespace
}  // namespace fogm2m::bus

namespace fogm2m::bus {
namespace {

TEST(RequestTimeout, OptionalPositiveMillisecondsBesideTheTicket) {
  auto plain = parse_request(R"({"ep":"d","ticket":"t","req":{"kind":"read","path":"/3/0"}})");
  ASSERT_TRUE(plain.request);
  EXPECT_EQ(plain.request->timeout_ms, std::nullopt);
  EXPECT_EQ(format_request(*plain.request).find("timeout"), std::string::npos);

  auto timed = parse_request(
      R"({"ep":"d","ticket":"t","timeout":30000,"req":{"kind":"read","path":"/3/0"}})");
  ASSERT_TRUE(timed.request) << timed.request.error().message;
  EXPECT_EQ(timed.request->timeout_ms, 30000);
  auto again = parse_request(format_request(*timed.request));
  ASSERT_TRUE(again.request);
  EXPECT_EQ(again.request->timeout_ms, 30000);

  auto composite = parse_request(
      R"({"ep":"d","ticket":"t","timeout":5,"req":{"kind":"read_composite","paths":["/3/0"]}})");
  ASSERT_TRUE(composite.request);
  auto composite_again = parse_request(format_request(*composite.request));
  ASSERT_TRUE(composite_again.request);
  EXPECT_EQ(composite_again.request->timeout_ms, 5);

  for (const char* bad : {"0", "-1", "1.5", "\"5\""}) {
    auto p = parse_request(std::string(R"({"ep":"d","ticket":"t","timeout":)") + bad +
                           R"(,"req":{"kind":"read","path":"/3/0"}})");
    ASSERT_FALSE(p.request) << bad;
    EXPECT_NE(p.request.error().message.find("\"timeout\""), std::string::npos);
    EXPECT_EQ(p.ticket, "t");  // still answerable
  }
}

}  // namespace
}  // namespace fogm2m::bus
