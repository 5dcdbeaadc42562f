// A simulator record as JSON, for test failure messages.
#pragma once

#include <google/protobuf/util/json_util.h>

#include <string>

#include "schema/result.pb.h"

namespace fogm2m::sim::test {

inline std::string record_json(const schema::ResultRecord& r) {
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(r, &out);
  return out;
}

}  // namespace fogm2m::sim::test
