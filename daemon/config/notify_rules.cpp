// The schema of `notify` (docs/configuration.md#notify): where per-job alerts
// go and which labels they carry. Every key's default is stated where it is
// read.
#include <algorithm>

#include "config/checks.h"
#include "config/schema.h"

namespace rcw {
namespace {

constexpr std::string_view kNotifyKeys[] = {"alertmanager", "external_labels", "owners"};
constexpr std::string_view kAlertmanagerKeys[] = {"urls", "timeout", "resend_interval"};
constexpr std::string_view kOwnerKeys[] = {"match", "labels"};
constexpr KeyHint kNotifyHints[] = {
    {"urls", "alertmanager"}, {"timeout", "alertmanager"}, {"resend_interval", "alertmanager"}};
constexpr KeyHint kOwnerHints[] = {
    {"types", "match"}, {"itwins", "match"}, {"users", "match"}, {"name_regex", "match"}};

// The labels every alert carries itself (docs/alerts.md): a configured label
// of the same name would hide what the alert is about.
constexpr std::string_view kAlertLabels[] = {"alertname", "severity", "job_id",
                                             "job_name",  "itwin_id", "user_id",
                                             "type",      "policy",   "limit"};
// Label values are text of reasonable size (Alertmanager keeps them in memory
// for every alert).
constexpr std::size_t kMaxLabelValue = 1024;

void ReadUrls(Section& s, NotifyConfig& n) {
  const YamlNode* node = s.Require("urls", "a list of Alertmanager URLs");
  if (node == nullptr) return;
  const std::string path = s.Path("urls");
  auto items = ReadSequence(*node, path, s.diag(), false,
                            "list at least one Alertmanager, or remove notify:");
  if (items == nullptr) return;
  for (std::size_t i = 0; i < items->size(); ++i) {
    const YamlNode& item = (*items)[i];
    std::optional<std::string> url = ReadString(item, IndexPath(path, i), s.diag());
    if (!url) continue;
    if (std::string error = CheckAlertmanagerUrl(*url); !error.empty()) {
      s.diag().Error(item.mark, IndexPath(path, i), error);
    } else if (std::find(n.urls.begin(), n.urls.end(), *url) != n.urls.end()) {
      s.diag().Error(item.mark, IndexPath(path, i),
                     "\"" + *url + "\" is listed twice (each Alertmanager once)");
    } else {
      n.urls.push_back(*url);
    }
  }
}

// A mapping of label name -> value. No name may be one of the alert's own.
void ReadLabels(const YamlNode& node, const std::string& path, Diagnostics& diag,
                AlertLabels& out) {
  if (!node.IsMapping()) {
    diag.Error(
        node.mark, path,
        "expected a mapping of label names to values (team: survey), found " + DescribeNode(node));
    return;
  }
  for (const YamlNode& child : node.children) {
    const std::string child_path = ChildPath(path, child.key);
    if (std::string error = CheckLabelName(child.key); !error.empty()) {
      diag.Error(child.key_mark, child_path, error);
      continue;
    }
    if (std::find(std::begin(kAlertLabels), std::end(kAlertLabels), child.key) !=
        std::end(kAlertLabels)) {
      diag.Error(child.key_mark, child_path,
                 "\"" + child.key +
                     "\" is a label of the alert itself and cannot be set (use another name, "
                     "e.g. team or owner_email)");
      continue;
    }
    std::optional<std::string> value = ReadString(child, child_path, diag);
    if (!value) continue;
    if (value->size() > kMaxLabelValue) {
      diag.Error(child.mark, child_path,
                 "label value is " + std::to_string(value->size()) + " bytes long (at most " +
                     std::to_string(kMaxLabelValue) + ")");
      continue;
    }
    out.emplace_back(child.key, std::move(*value));
  }
}

void ReadOwners(const Section& s, NotifyConfig& n) {
  const YamlNode* node = s.Get("owners");
  if (node == nullptr) return;
  const std::string path = s.Path("owners");
  auto items = ReadSequence(*node, path, s.diag(), true);
  if (items == nullptr) return;
  for (std::size_t i = 0; i < items->size(); ++i) {
    const YamlNode& item = (*items)[i];
    Section owner(&item, IndexPath(path, i), s.diag(), item.mark, kOwnerKeys, kOwnerHints);
    if (!item.IsMapping()) continue;
    OwnerRoute route;
    // match: same keys as a policy's; default every job.
    ReadMatch(owner, route.match);
    // labels: required, a non-empty mapping.
    if (const YamlNode* labels = owner.Require("labels", "e.g. {team: survey}")) {
      ReadLabels(*labels, owner.Path("labels"), s.diag(), route.labels);
      if (labels->IsMapping() && labels->children.empty()) {
        s.diag().Error(labels->mark, owner.Path("labels"),
                       "no labels (add e.g. team: survey, or remove this entry)");
      }
    }
    n.owners.push_back(std::move(route));
  }
}

}  // namespace

// notify: optional; absent, no alert is sent.
void ReadNotify(const Section& root, Config& config) {
  const YamlNode* node = root.Get("notify");
  if (node == nullptr) return;
  Section s = SubSection(root, "notify", kNotifyKeys, kNotifyHints);
  if (!node->IsMapping()) return;  // reported by SubSection
  NotifyConfig n;
  // alertmanager: required, with urls.
  if (s.Require("alertmanager", "a mapping with urls")) {
    Section am = SubSection(s, "alertmanager", kAlertmanagerKeys);
    ReadUrls(am, n);
    // timeout: per request, > 0; default 10s.
    am.Duration("timeout", n.timeout, DurationRange::kPositive);
    // resend_interval: firing alerts are re-sent this often, > 0; default 1m.
    am.Duration("resend_interval", n.resend_interval, DurationRange::kPositive);
  }
  // external_labels: added to every alert; default none.
  if (const YamlNode* labels = s.Get("external_labels")) {
    ReadLabels(*labels, s.Path("external_labels"), s.diag(), n.external_labels);
  }
  // owners: a list; default none.
  ReadOwners(s, n);
  config.notify = std::move(n);
}

}  // namespace rcw
