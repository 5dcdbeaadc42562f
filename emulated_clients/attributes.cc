#include "emulated_clients/attributes.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "emulated_clients/response_codes.h"
#include "lwm2m/codec/text.h"

namespace fogm2m::emulated {

using namespace response_code;

namespace {

using lwm2m::Path;

constexpr size_t kMaxEntries = 64;

bool parse_uint32(std::string_view text, uint32_t* out) {
  if (text.empty()) return false;
  for (char ch : text)
    if (ch < '0' || ch > '9') return false;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && p == text.data() + text.size();
}

bool parse_number(std::string_view text, double* out) {
  if (text.empty() || text[0] == '+') return false;
  for (char ch : text) {
    const bool ok = (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == 'e' || ch == 'E';
    if (!ok) return false;
  }
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && p == text.data() + text.size() && std::isfinite(*out);
}

// Copies the periods (pmin, pmax, epmin, epmax) that `from` sets over `into`.
void overlay_periods(Attributes& into, const Attributes& from) {
  if (from.has(Attributes::kPmin)) into.pmin = from.pmin, into.set |= Attributes::kPmin;
  if (from.has(Attributes::kPmax)) into.pmax = from.pmax, into.set |= Attributes::kPmax;
  if (from.has(Attributes::kEpmin)) into.epmin = from.epmin, into.set |= Attributes::kEpmin;
  if (from.has(Attributes::kEpmax)) into.epmax = from.epmax, into.set |= Attributes::kEpmax;
}

Path path_prefix(const Path& p, int depth) {
  switch (depth) {
    case 1:
      return Path(p.object_id());
    case 2:
      return Path(p.object_id(), p.instance_id());
    case 3:
      return Path(p.object_id(), p.instance_id(), p.resource_id());
    default:
      return p;
  }
}

}  // namespace

void append_link_attributes(std::string& out, const Attributes& a) {
  auto num = [&](const char* name, uint32_t v) {
    out += ';';
    out += name;
    out += '=';
    out += std::to_string(v);
  };
  auto real = [&](const char* name, double v) {
    out += ';';
    out += name;
    out += '=';
    out += lwm2m::text::format_double(v);
  };
  if (a.has(Attributes::kPmin)) num("pmin", a.pmin);
  if (a.has(Attributes::kPmax)) num("pmax", a.pmax);
  if (a.has(Attributes::kGt)) real("gt", a.gt);
  if (a.has(Attributes::kLt)) real("lt", a.lt);
  if (a.has(Attributes::kSt)) real("st", a.st);
  if (a.has(Attributes::kEpmin)) num("epmin", a.epmin);
  if (a.has(Attributes::kEpmax)) num("epmax", a.epmax);
}

const Attributes* AttributeTable::at(const Path& path) const {
  for (const Entry& e : entries_)
    if (e.path == path) return &e.attributes;
  return nullptr;
}

Attributes AttributeTable::effective(const Path& path, const Attributes& defaults) const {
  Attributes out;
  overlay_periods(out, defaults);
  const int depth = std::min(path.depth(), 3);
  for (int d = 1; d <= depth; ++d) {
    const Attributes* a = at(path_prefix(path, d));
    if (!a) continue;
    overlay_periods(out, *a);
    if (d == 3 && path.is_resource()) {
      out.set |= a->set & (Attributes::kGt | Attributes::kLt | Attributes::kSt);
      out.gt = a->gt;
      out.lt = a->lt;
      out.st = a->st;
    }
  }
  return out;
}

uint8_t AttributeTable::write(const Path& path, const std::vector<std::string_view>& queries,
                              bool numeric) {
  Attributes a;
  if (const Attributes* old = at(path)) a = *old;
  for (std::string_view q : queries) {
    const size_t eq = q.find('=');
    const std::string_view name = q.substr(0, eq);
    const bool clear = eq == std::string_view::npos;
    const std::string_view text = clear ? std::string_view() : q.substr(eq + 1);
    uint8_t flag = 0;
    uint32_t* period = nullptr;
    double* number = nullptr;
    if (name == "pmin")
      flag = Attributes::kPmin, period = &a.pmin;
    else if (name == "pmax")
      flag = Attributes::kPmax, period = &a.pmax;
    else if (name == "epmin")
      flag = Attributes::kEpmin, period = &a.epmin;
    else if (name == "epmax")
      flag = Attributes::kEpmax, period = &a.epmax;
    else if (name == "gt")
      flag = Attributes::kGt, number = &a.gt;
    else if (name == "lt")
      flag = Attributes::kLt, number = &a.lt;
    else if (name == "st")
      flag = Attributes::kSt, number = &a.st;
    else
      return kBadRequest;
    // gt, lt and st apply to numeric resources only.
    if (number && !numeric) return kBadRequest;
    if (clear) {
      a.set &= static_cast<uint8_t>(~flag);
      continue;
    }
    if (period && !parse_uint32(text, period)) return kBadRequest;
    if (number && !parse_number(text, number)) return kBadRequest;
    if (flag == Attributes::kSt && a.st < 0) return kBadRequest;
    a.set |= flag;
  }
  // TS-Core 5.1.2: lt < gt, and lt + 2*st < gt when st is given too.
  if (a.has(Attributes::kGt) && a.has(Attributes::kLt)) {
    if (!(a.lt < a.gt)) return kBadRequest;
    if (a.has(Attributes::kSt) && !(a.lt + 2 * a.st < a.gt)) return kBadRequest;
  }

  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const Entry& e) { return e.path == path; });
  if (a.set == 0) {
    if (it != entries_.end()) entries_.erase(it);
  } else if (it != entries_.end()) {
    it->attributes = a;
  } else {
    if (entries_.size() >= kMaxEntries) return kInternalError;
    entries_.push_back(Entry{path, a});
  }
  return kChanged;
}

void AttributeTable::remove_under(const Path& path) {
  std::erase_if(entries_, [&](const Entry& e) { return e.path.starts_with(path); });
}

}  // namespace fogm2m::emulated
