// The schema of policies, budgets and estimates (docs/configuration.md). Every
// key's default is stated where it is read.
#include <algorithm>
#include <map>

#include "config/checks.h"
#include "config/schema.h"

namespace rcw {
namespace {

constexpr std::string_view kPolicyKeys[] = {"name",  "match",   "exempt", "limits",
                                            "grace", "warn_at", "action"};
constexpr KeyHint kPolicyHints[] = {
    {"max_runtime", "limits"}, {"max_queued", "limits"}, {"max_processing_units", "limits"},
    {"types", "match"},        {"itwins", "match"},      {"users", "match"},
    {"name_regex", "match"},   {"ids", "exempt"}};
constexpr std::string_view kMatchKeys[] = {"types", "itwins", "users", "name_regex"};
constexpr std::string_view kExemptKeys[] = {"name_regex", "ids"};
constexpr std::string_view kLimitKeys[] = {"max_runtime", "max_queued", "max_processing_units"};
constexpr std::string_view kPolicyActions[] = {"cancel", "report"};
constexpr std::string_view kBudgetKeys[] = {"name",    "group_by", "match",
                                            "window",  "timezone", "limit",
                                            "warn_at", "action",   "count_running"};
constexpr KeyHint kBudgetHints[] = {
    {"types", "match"}, {"itwins", "match"}, {"users", "match"}, {"name_regex", "match"}};
constexpr std::string_view kGroupBy[] = {"itwin", "user", "type", "all"};
constexpr std::string_view kWindows[] = {"daily", "weekly", "monthly"};
constexpr std::string_view kBudgetActions[] = {"cancel_queued", "cancel_all", "report"};
constexpr std::string_view kEstimatesKeys[] = {"learn", "pu_per_hour"};

// name: required; [A-Za-z0-9_.-]+ (a metric label).
void ReadName(Section& s, std::string& out) {
  const YamlNode* n = s.Require("name", "use letters, digits, _, . and -");
  if (n == nullptr) return;
  std::optional<std::string> name = ReadString(*n, s.Path("name"), s.diag());
  if (!name) return;
  if (std::string error = CheckName(*name); !error.empty()) {
    s.diag().Error(n->mark, s.Path("name"), error);
    return;
  }
  out = *name;
}

void ReadRegex(Section& s, std::string_view key, std::optional<Regex>& out) {
  const YamlNode* n = s.Get(key);
  if (n == nullptr) return;
  std::optional<std::string> pattern = ReadString(*n, s.Path(key), s.diag());
  if (!pattern) return;
  std::string error;
  out = CompileRegex(*pattern, error);
  if (!out) s.diag().Error(n->mark, s.Path(key), error);
}

std::vector<JobType> ReadTypes(const YamlNode& node, const std::string& path, Diagnostics& diag) {
  std::vector<JobType> types;
  auto items = ReadSequence(node, path, diag, false, "remove types: to match every job type");
  if (items == nullptr) return types;
  for (size_t i = 0; i < items->size(); ++i) {
    if (auto t = ReadChoice((*items)[i], IndexPath(path, i), diag, kJobTypeNames)) {
      types.push_back(static_cast<JobType>(*t));
    }
  }
  return types;
}

// An empty list in `match` would match everything, the opposite of how it
// reads, so only absent keys mean "any".
void ReadIds(Section& s, std::string_view key, std::string_view empty_hint,
             std::vector<std::string>& out) {
  const YamlNode* n = s.Get(key);
  if (n == nullptr) return;
  bool allow_empty = empty_hint.empty();
  if (auto ids = ReadGuidList(*n, s.Path(key), s.diag(), allow_empty, empty_hint)) out = *ids;
}


// exempt: name_regex and/or ids; default: no exemption.
void ReadExempt(const Section& parent, ExemptSpec& e) {
  Section s = SubSection(parent, "exempt", kExemptKeys);
  ReadRegex(s, "name_regex", e.name_regex);
  ReadIds(s, "ids", "", e.ids);
}

// limits: required, at least one of them; each > 0.
void ReadLimits(Section& parent, Limits& l) {
  const YamlNode* node =
      parent.Require("limits", "use max_runtime, max_queued or max_processing_units");
  if (node == nullptr) return;
  Section s = SubSection(parent, "limits", kLimitKeys);
  // Any key at all (an unknown one is reported as such) or a non-mapping
  // (reported by Section) is enough: one error per mistake.
  if (node->IsNull() || (node->IsMapping() && node->children.empty())) {
    s.diag().Error(node->key_mark, s.path(),
                   "no limit set (use at least one of max_runtime, max_queued or "
                   "max_processing_units)");
  }
  Seconds d{0};
  if (s.Duration("max_runtime", d, DurationRange::kPositive)) l.max_runtime = d;
  if (s.Duration("max_queued", d, DurationRange::kPositive)) l.max_queued = d;
  s.Number("max_processing_units", l.max_processing_units, NumberRange::kPositive);
}

PolicyConfig ReadPolicy(const YamlNode& item, const std::string& path, Diagnostics& diag) {
  Section s(&item, path, diag, item.mark, kPolicyKeys, kPolicyHints);
  PolicyConfig p;
  ReadName(s, p.name);
  ReadMatch(s, p.match);
  ReadExempt(s, p.exempt);
  ReadLimits(s, p.limits);
  // grace: extra time after a limit before cancelling, >= 0; default 0s.
  s.Duration("grace", p.grace, DurationRange::kNonNegative);
  // warn_at: fraction of a limit in (0, 1); default none (no warnings).
  s.Number("warn_at", p.warn_at, NumberRange::kOpenFraction);
  // action: cancel | report; default cancel.
  if (auto a = s.Choice("action", kPolicyActions)) p.action = static_cast<PolicyAction>(*a);
  return p;
}

void ReadTimezone(Section& s, const std::string& tzdir, std::string& out) {
  const YamlNode* n = s.Get("timezone");
  if (n == nullptr) return;
  std::optional<std::string> tz = ReadString(*n, s.Path("timezone"), s.diag());
  if (!tz) return;
  if (std::string error = CheckTimezone(*tz, tzdir); !error.empty()) {
    s.diag().Error(n->mark, s.Path("timezone"), error);
    return;
  }
  out = *tz;
}

BudgetConfig ReadBudget(const YamlNode& item, const std::string& path, Diagnostics& diag,
                        const std::string& tzdir) {
  Section s(&item, path, diag, item.mark, kBudgetKeys, kBudgetHints);
  BudgetConfig b;
  ReadName(s, b.name);
  // group_by: required; itwin | user | type | all.
  s.Require("group_by", "use itwin, user, type or all");
  if (auto g = s.Choice("group_by", kGroupBy)) b.group_by = static_cast<GroupBy>(*g);
  ReadMatch(s, b.match);
  // window: required; daily | weekly (from Monday) | monthly.
  s.Require("window", "use daily, weekly or monthly");
  if (auto w = s.Choice("window", kWindows)) b.window = static_cast<BudgetWindow>(*w);
  // timezone: IANA name the window's days start in; default UTC.
  ReadTimezone(s, tzdir, b.timezone);
  // limit: required; processing units per window per group, > 0.
  s.Require("limit", "processing units per window, a number > 0");
  s.Number("limit", b.limit, NumberRange::kPositive);
  // warn_at: fraction of the limit in (0, 1); default none.
  s.Number("warn_at", b.warn_at, NumberRange::kOpenFraction);
  // action: cancel_queued | cancel_all | report; default cancel_queued.
  if (auto a = s.Choice("action", kBudgetActions)) b.action = static_cast<BudgetAction>(*a);
  // count_running: add running jobs' estimated units; default true.
  s.Bool("count_running", b.count_running);
  return b;
}

// The items of the list under `key`; an empty value counts as an empty list.
const std::vector<YamlNode>* ListOfMappings(const Section& root, std::string_view key) {
  const YamlNode* n = root.Get(key);
  if (n == nullptr || n->IsNull()) return nullptr;
  auto items = ReadSequence(*n, root.Path(key), root.diag(), true);
  if (items == nullptr) return nullptr;
  for (size_t i = 0; i < items->size(); ++i) {
    const YamlNode& item = (*items)[i];
    if (item.IsMapping()) continue;
    YamlMark mark = item.mark.line > 0 ? item.mark : n->key_mark;
    root.diag().Error(mark, IndexPath(root.Path(key), i),
                      "expected a mapping (name:, ... lines), found " + DescribeNode(item));
  }
  return items;
}

struct NamedItem {
  const YamlNode* name;  // a scalar
  std::string path;      // "policies[2].name"
  std::string_view kind;
};

// The name nodes of all policies and budgets that have a scalar name.
std::vector<NamedItem> NamedItems(const Section& root) {
  std::vector<NamedItem> all;
  for (std::string_view list : {"policies", "budgets"}) {
    const YamlNode* n = root.Get(list);
    if (n == nullptr || !n->IsSequence()) continue;
    for (size_t i = 0; i < n->children.size(); ++i) {
      const YamlNode& item = n->children[i];
      auto name = std::find_if(item.children.begin(), item.children.end(),
                               [](const YamlNode& c) { return c.key == "name"; });
      if (!item.IsMapping() || name == item.children.end() || !name->IsScalar()) continue;
      all.push_back({&*name, IndexPath(std::string(list), i) + ".name",
                     list == "policies" ? "policy" : "budget"});
    }
  }
  return all;
}

}  // namespace

// match: every key optional, all given keys must match; default: every job.
void ReadMatch(const Section& parent, MatchSpec& m) {
  Section s = SubSection(parent, "match", kMatchKeys);
  if (const YamlNode* n = s.Get("types")) m.types = ReadTypes(*n, s.Path("types"), s.diag());
  ReadIds(s, "itwins", "remove itwins: to match every iTwin", m.itwins);
  ReadIds(s, "users", "remove users: to match every user", m.users);
  ReadRegex(s, "name_regex", m.name_regex);
}

// policies: a list; default none.
void ReadPolicies(const Section& root, Config& config) {
  const std::vector<YamlNode>* items = ListOfMappings(root, "policies");
  if (items == nullptr) return;
  for (size_t i = 0; i < items->size(); ++i) {
    if (!(*items)[i].IsMapping()) continue;
    config.policies.push_back(
        ReadPolicy((*items)[i], IndexPath(root.Path("policies"), i), root.diag()));
  }
}

// budgets: a list; default none.
void ReadBudgets(const Section& root, Config& config, const std::string& tzdir) {
  const std::vector<YamlNode>* items = ListOfMappings(root, "budgets");
  if (items == nullptr) return;
  for (size_t i = 0; i < items->size(); ++i) {
    if (!(*items)[i].IsMapping()) continue;
    config.budgets.push_back(
        ReadBudget((*items)[i], IndexPath(root.Path("budgets"), i), root.diag(), tzdir));
  }
}

void ReadEstimates(const Section& root, Config& config) {
  Section s = SubSection(root, "estimates", kEstimatesKeys);
  // learn: learn PU-per-hour rates per job type from ended jobs; default true.
  s.Bool("learn", config.learn_estimates);
  // pu_per_hour: job type -> fixed rate > 0, wins over a learned one; default none.
  Section rates = SubSection(s, "pu_per_hour", kJobTypeNames);
  for (size_t i = 0; i < kJobTypeNames.size(); ++i) {
    std::optional<double> rate;
    if (rates.Number(kJobTypeNames[i], rate, NumberRange::kPositive)) config.pu_per_hour[i] = rate;
  }
}

void CheckUniqueNames(const Section& root) {
  std::vector<NamedItem> all = NamedItems(root);
  // The later one in the file is the duplicate.
  std::stable_sort(all.begin(), all.end(), [](const NamedItem& a, const NamedItem& b) {
    return a.name->mark.line < b.name->mark.line;
  });
  std::map<std::string, const NamedItem*> first;
  for (const NamedItem& n : all) {
    auto [it, inserted] = first.emplace(n.name->text, &n);
    if (inserted) continue;
    root.diag().Error(n.name->mark, n.path,
                      "duplicate name \"" + n.name->text + "\" (the " +
                          std::string(it->second->kind) + " at line " +
                          std::to_string(it->second->name->mark.line) +
                          " has it; names are metric labels, use a unique one across policies "
                          "and budgets)");
  }
}

}  // namespace rcw
