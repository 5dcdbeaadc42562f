// Sweep expansion and run selection (see sweep.h for the order promised).
#include "scenario/sweep.h"

#include <google/protobuf/util/message_differencer.h>

#include <charconv>
#include <string>

namespace fogm2m::scenario {
namespace {

namespace pb = google::protobuf;

// Copies value `index` of the repeated Sweep field `axis` into the Point
// field of the same name.
void set_from_axis(const schema::Sweep& sweep, const pb::FieldDescriptor* axis, int index,
                   schema::Point* point) {
  const pb::FieldDescriptor* target = point->GetDescriptor()->FindFieldByName(axis->name());
  if (target == nullptr || target->cpp_type() != axis->cpp_type())
    return;  // caught by the schema test
  const pb::Reflection* from = sweep.GetReflection();
  const pb::Reflection* to = point->GetReflection();
  switch (axis->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_UINT32:
      to->SetUInt32(point, target, from->GetRepeatedUInt32(sweep, axis, index));
      break;
    case pb::FieldDescriptor::CPPTYPE_UINT64:
      to->SetUInt64(point, target, from->GetRepeatedUInt64(sweep, axis, index));
      break;
    case pb::FieldDescriptor::CPPTYPE_INT32:
      to->SetInt32(point, target, from->GetRepeatedInt32(sweep, axis, index));
      break;
    case pb::FieldDescriptor::CPPTYPE_INT64:
      to->SetInt64(point, target, from->GetRepeatedInt64(sweep, axis, index));
      break;
    case pb::FieldDescriptor::CPPTYPE_DOUBLE:
      to->SetDouble(point, target, from->GetRepeatedDouble(sweep, axis, index));
      break;
    case pb::FieldDescriptor::CPPTYPE_FLOAT:
      to->SetFloat(point, target, from->GetRepeatedFloat(sweep, axis, index));
      break;
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      to->SetBool(point, target, from->GetRepeatedBool(sweep, axis, index));
      break;
    case pb::FieldDescriptor::CPPTYPE_ENUM:
      to->SetEnumValue(point, target, from->GetRepeatedEnumValue(sweep, axis, index));
      break;
    case pb::FieldDescriptor::CPPTYPE_STRING:
      to->SetString(point, target, from->GetRepeatedString(sweep, axis, index));
      break;
    case pb::FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
}

}  // namespace

std::vector<schema::Point> expand_points(const schema::Scenario& scenario) {
  if (scenario.points_size() > 0) return {scenario.points().begin(), scenario.points().end()};

  const schema::Sweep& sweep = scenario.sweep();
  const pb::Descriptor* d = sweep.GetDescriptor();
  const pb::Reflection* r = sweep.GetReflection();
  // Non-empty axes, outermost first; request_rate last.
  std::vector<const pb::FieldDescriptor*> axes;
  const pb::FieldDescriptor* rate = nullptr;
  for (int i = 0; i < d->field_count(); ++i) {
    const pb::FieldDescriptor* f = d->field(i);
    if (r->FieldSize(sweep, f) == 0) continue;
    if (f->name() == "request_rate") {
      rate = f;
    } else {
      axes.push_back(f);
    }
  }
  if (rate != nullptr) axes.push_back(rate);

  size_t total = 1;
  for (const auto* axis : axes) total *= static_cast<size_t>(r->FieldSize(sweep, axis));
  std::vector<schema::Point> points;
  points.reserve(total);
  // An odometer over the axes: the last axis turns fastest.
  std::vector<int> digit(axes.size(), 0);
  for (size_t n = 0; n < total; ++n) {
    schema::Point p = scenario.defaults();
    for (size_t a = 0; a < axes.size(); ++a) set_from_axis(sweep, axes[a], digit[a], &p);
    points.push_back(std::move(p));
    for (size_t a = axes.size(); a-- > 0;) {
      if (++digit[a] < r->FieldSize(sweep, axes[a])) break;
      digit[a] = 0;
    }
  }
  return points;
}

bool same_deployment(const schema::Point& a, const schema::Point& b) {
  schema::Point x = a, y = b;
  x.clear_request_rate();
  y.clear_request_rate();
  return pb::util::MessageDifferencer::Equals(x, y);
}

Result<Shard> parse_shard(std::string_view text) {
  const auto bad = [&](const std::string& why) {
    return make_error(ErrorKind::kInvalidArgument, "shard \"" + std::string(text) + "\": " + why);
  };
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return bad("expected K/N, e.g. 2/4");
  const auto number = [](std::string_view digits, uint32_t* out) {
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), *out);
    return !digits.empty() && ec == std::errc() && end == digits.data() + digits.size();
  };
  Shard s;
  if (!number(text.substr(0, slash), &s.index) || !number(text.substr(slash + 1), &s.count))
    return bad("expected K/N with whole numbers, e.g. 2/4");
  if (s.count < 1) return bad("N must be at least 1");
  if (s.index < 1 || s.index > s.count) return bad("K must be within 1..N");
  return s;
}

std::vector<PlannedRun> select_runs(const std::vector<schema::Point>& points, uint32_t repetitions,
                                    Shard shard, const DoneRuns& done, RepetitionOrder order) {
  std::vector<PlannedRun> runs;
  if (shard.count < 1 || shard.index < 1 || shard.index > shard.count) return runs;
  // The shard's groups of consecutive points sharing a deployment.
  std::vector<std::vector<uint32_t>> groups;
  uint32_t group = 0;
  for (uint32_t i = 0; i < points.size(); ++i) {
    const bool starts_group = i == 0 || !same_deployment(points[i - 1], points[i]);
    if (i > 0 && starts_group) ++group;
    if (group % shard.count != shard.index - 1) continue;
    if (starts_group) groups.emplace_back();
    groups.back().push_back(i);
  }
  const auto add = [&](uint32_t i, uint32_t rep) {
    if (!done.count({i, rep})) runs.push_back(PlannedRun{i, rep, points[i]});
  };
  for (const auto& members : groups) {
    if (order == RepetitionOrder::kInterleaved) {
      for (uint32_t rep = 0; rep < repetitions; ++rep)
        for (uint32_t i : members) add(i, rep);
    } else {
      for (uint32_t i : members)
        for (uint32_t rep = 0; rep < repetitions; ++rep) add(i, rep);
    }
  }
  return runs;
}

}  // namespace fogm2m::scenario
