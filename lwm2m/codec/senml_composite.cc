// The parts of the SenML formats' composite packs (TS-Core 6.3.x, 6.4.x)
// that JSON and CBOR share (json_common.h declares them). Apart from
// json_common.cc so that the single-path decoders compile as before.
#include <algorithm>
#include <string>
#include <vector>

#include "lwm2m/codec/common.h"
#include "lwm2m/codec/json_common.h"

namespace fogm2m::lwm2m::json_detail {

using codec_detail::format_error;

Result<Path> resolve_target(std::string_view format, size_t record, std::string_view base,
                            std::string_view name) {
  auto path = parse_record_name(format, record, base, name);
  if (path && path->is_root())
    return format_error(ErrorKind::kInvalidArgument, format,
                        record_label(record) + " names the root path");
  return path;
}

Result<std::vector<PathNode>> group_composite(std::string_view format, std::span<const Path> paths,
                                              const std::vector<Record>& records,
                                              const ModelRegistry& models) {
  std::vector<bool> placed(records.size(), false);
  std::vector<PathNode> out;
  out.reserve(paths.size());
  for (const Path& path : paths) {
    std::vector<Record> mine;
    for (size_t i = 0; i < records.size(); ++i) {
      if (!records[i].path.starts_with(path)) continue;
      mine.push_back(records[i]);
      placed[i] = true;
    }
    if (mine.empty()) continue;
    auto node = assemble(format, path, std::move(mine), models);
    if (!node) return node.error();
    out.push_back(PathNode{path, std::move(*node)});
  }
  for (size_t i = 0; i < records.size(); ++i)
    if (!placed[i])
      return format_error(ErrorKind::kInvalidArgument, format,
                          record_label(records[i].index) + ": " + records[i].path.to_string() +
                              " is outside the requested paths");
  return out;
}

std::vector<Path> resource_paths(const std::vector<Record>& records) {
  std::vector<Path> out;
  for (const Record& r : records) {
    const Path resource = r.path.is_resource_instance() ? r.path.parent() : r.path;
    if (std::find(out.begin(), out.end(), resource) == out.end()) out.push_back(resource);
  }
  return out;
}

Result<std::vector<PathValue>> composite_leaves(std::string_view format,
                                                std::span<const PathNode> nodes) {
  std::vector<PathValue> out;
  std::vector<Path> seen;
  for (const PathNode& pn : nodes) {
    if (Status s = codec_detail::validate_node(format, pn.path, pn.node); !s) return s.error();
    for (PathValue& leaf : flatten(pn.path, pn.node)) {
      if (Status s = check_leaf(format, leaf.path, leaf.value); !s) return s.error();
      if (std::find(seen.begin(), seen.end(), leaf.path) != seen.end()) continue;
      seen.push_back(leaf.path);
      out.push_back(std::move(leaf));
    }
  }
  return out;
}

}  // namespace fogm2m::lwm2m::json_detail
