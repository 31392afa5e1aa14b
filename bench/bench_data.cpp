#include "bench/bench_data.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>

#include "config/loader.h"
#include "json/decode.h"

namespace rcw::bench {
namespace {

constexpr std::int64_t kNowUnix = 1775397896;  // 2026-04-05T14:04:56Z
constexpr const char* kBaseUrl = "https://api.bentley.com/reality-conversion";

const char* const kTypes[] = {"PointCloudConversion", "PointCloudOptimization",
                              "TileMapOptimization",  "VectorOptimization",
                              "MeshSampling",         "ContextSceneTiler"};

std::string Guid(std::uint64_t hi, std::uint64_t lo) {
  char b[40];
  std::snprintf(b, sizeof b, "%08llx-%04llx-4%03llx-%04llx-%012llx",
                static_cast<unsigned long long>(hi >> 32),
                static_cast<unsigned long long>((hi >> 16) & 0xffff),
                static_cast<unsigned long long>(hi & 0xfff),
                static_cast<unsigned long long>(0x8000 | ((lo >> 48) & 0x3fff)),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return b;
}

std::string RandomGuid(std::mt19937_64& rng) {
  std::uint64_t hi = rng();
  return Guid(hi, rng());
}

// "2026-04-05T14:04:56Z" (even seq) or "2026-04-01T09:56:14.1234560+00:00"
// (odd seq), as the simulator alternates them.
void AppendTime(std::string& out, std::int64_t unix_s, int micros, bool offset_form) {
  std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char b[96];  // roomy: g++ cannot bound the int fields
  if (offset_form) {
    std::snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02d.%06d0+00:00", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
  } else {
    std::snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  }
  out += b;
}

// Python's repr(float): the shortest text that reads back the same.
void AppendNumber(std::string& out, double d) {
  char b[32];
  auto r = std::to_chars(b, b + sizeof b, d);
  out.append(b, r.ptr);
  if (std::find_if(b, r.ptr, [](char c) { return c == '.' || c == 'e'; }) == r.ptr) out += ".0";
}

std::string Specifications(int type, std::size_t seq, std::mt19937_64& rng) {
  std::string a = RandomGuid(rng), o = RandomGuid(rng);
  switch (type) {
    case 0:
      return std::string(R"({"inputs":{")") + (seq % 2 ? "pointClouds" : "pointCloud") +
             R"(":")" + a + R"("},"output":")" + o + R"(","options":{"outputFormat":"3DTilesPnts"}})";
    case 1:
      return R"({"inputs":{"pointClouds":[")" + a + R"(",")" + RandomGuid(rng) +
             R"("]},"output":")" + o + R"(","options":{"outputFormat":"OPC"}})";
    case 2:
      return R"({"inputs":{"tileMaps":[")" + a + R"("]},"output":")" + o +
             R"(","options":{"outputFormat":"XYZTileMap","imageFormat":"PNG"}})";
    case 3:
      return R"({"inputs":{"vectors":[")" + a + R"("]},"output":")" + o +
             R"(","options":{"outputFormat":"GeoJSON"}})";
    case 4:
      return R"({"inputs":{"meshes":[")" + a + R"("]},"output":")" + o +
             R"(","options":{"outputFormat":"LAS","sampling":0.5}})";
    default:
      return R"({"inputs":{"scene":")" + a + R"("},"output":")" + o +
             R"(","options":{"objectToTile":"TiePoints"}})";
  }
}

struct GenJob {
  std::int64_t created = 0;
  std::string json;
};

GenJob MakeJob(std::size_t seq, const CorpusOptions& o, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> unit(0, 1);
  auto uniform = [&](double lo, double hi) { return lo + (hi - lo) * unit(rng); };
  bool offset = seq % 2 == 1;
  int type = static_cast<int>(rng() % 6);
  std::string id = RandomGuid(rng);
  std::string user = UserId(static_cast<int>(rng() % static_cast<unsigned>(o.users)));
  std::string itwin = ItwinId(static_cast<int>(rng() % static_cast<unsigned>(o.itwins)));

  // Lifecycle relative to "now": running jobs are recent, ended ones spread
  // over the lookback window.
  const char* state = "Success";
  std::int64_t created = 0, started = -1, ended = -1;
  double pu = -1;
  bool omit_started = false;
  if (unit(rng) < o.running_fraction) {
    if (unit(rng) < 0.25) {
      state = "Queued";
      created = kNowUnix - static_cast<std::int64_t>(uniform(0, 2400));  // up to 40 min
    } else {
      state = "Active";
      std::int64_t run = static_cast<std::int64_t>(uniform(0, 3 * 3600));  // up to 3 h
      started = kNowUnix - run;
      created = started - static_cast<std::int64_t>(uniform(0, 900));
      omit_started = unit(rng) < 0.02;  // Active without startedDateTime
    }
  } else {
    double r = unit(rng);
    state = r < 0.8 ? "Success" : r < 0.9 ? "Failed" : "Cancelled";
    created = kNowUnix - static_cast<std::int64_t>(uniform(4 * 3600, o.lookback_days * 86400));
    started = created + static_cast<std::int64_t>(uniform(0, 900));
    double run_s = uniform(300, 14400);
    ended = started + static_cast<std::int64_t>(run_s);
    pu = uniform(1, 20) * run_s / 3600;
  }
  int micros = static_cast<int>(rng() % 1000000);

  std::string j;
  j.reserve(720);
  j += R"({"id":")" + id + R"(","state":")" + state + R"(","userId":")" + user +
       R"(","executionInfo":{"createdDateTime":")";
  AppendTime(j, created, micros, offset);
  j += '"';
  if (started >= 0 && !omit_started) {
    j += R"(,"startedDateTime":")";
    AppendTime(j, started, micros, offset);
    j += '"';
  }
  if (ended >= 0) {
    j += R"(,"endedDateTime":")";
    AppendTime(j, ended, micros, offset);
    j += '"';
  }
  if (pu >= 0) {
    j += R"(,"processingUnits":)";
    AppendNumber(j, pu);
  }
  j += R"(},"specifications":)" + Specifications(type, seq, rng) + R"(,"name":)";
  double n = unit(rng);
  if (n < 0.05) {
    j += "null";
  } else {
    const char* prefix = n < 0.10 ? "nightly-" : "job-";
    j += '"' + std::string(prefix) + std::to_string(seq) + (n > 0.95 ? "-keep\"" : "\"");
  }
  j += R"(,"type":")" + std::string(kTypes[type]) + R"(","iTwinId":")" + itwin + R"("})";
  return {created, std::move(j)};
}

std::string NextHref(std::size_t page) {
  // An opaque continuation token, as long as the API's.
  char token[48];
  std::snprintf(token, sizeof token, "MTRmZDkwZTAtY2Q5Yi00%08zuZjQ5LTk0YzQ", page);
  return std::string(kBaseUrl) + "/jobs?$filter=iTwinId%20eq%20" + ItwinId(0) +
         "&$top=1000&continuationToken=" + token;
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "bench setup failed: %s\n", what.c_str());
  std::abort();
}

}  // namespace

TimePoint BenchNow() { return TimePoint{std::chrono::seconds{kNowUnix}}; }

std::string ItwinId(int n) { return Guid(0xce54f77367db0000ULL + static_cast<unsigned>(n), 0xa98b368329107429ULL); }
std::string UserId(int n) { return Guid(0x3a8670f9b6900000ULL + static_cast<unsigned>(n), 0xb958f103d580755fULL); }

std::vector<std::string> MakeListPages(const CorpusOptions& o) {
  std::mt19937_64 rng(o.seed);
  std::vector<GenJob> jobs;
  jobs.reserve(o.jobs);
  for (std::size_t i = 0; i < o.jobs; ++i) jobs.push_back(MakeJob(i, o, rng));
  // The API lists newest first.
  std::stable_sort(jobs.begin(), jobs.end(),
                   [](const GenJob& a, const GenJob& b) { return a.created > b.created; });
  std::vector<std::string> pages;
  for (std::size_t first = 0; first < jobs.size() || pages.empty(); first += o.page_size) {
    std::size_t last = std::min(jobs.size(), first + o.page_size);
    std::string body = R"({"jobs":[)";
    for (std::size_t i = first; i < last; ++i) {
      if (i > first) body += ',';
      body += jobs[i].json;
    }
    body += ']';
    if (last < jobs.size()) body += R"(,"_links":{"next":{"href":")" + NextHref(pages.size()) + "\"}}";
    body += '}';
    body.reserve(body.size() + kJsonPadding);
    pages.push_back(std::move(body));
  }
  return pages;
}

std::size_t TotalBytes(const std::vector<std::string>& pages) {
  std::size_t n = 0;
  for (const std::string& p : pages) n += p.size();
  return n;
}

std::vector<Job> DecodeAll(const std::vector<std::string>& pages) {
  std::vector<Job> jobs;
  for (const std::string& page : pages) {
    std::optional<std::string> next;
    Status s = DecodeJobPage(PaddedJson::Borrow(page), [&](Job&& j) { jobs.push_back(std::move(j)); },
                             next);
    if (!s.ok()) Die("a generated page does not decode: " + s.ToString());
  }
  return jobs;
}

std::string ConfigYaml(const ConfigOptions& o) {
  auto itwin = [&](int n) { return ItwinId(n % std::max(1, o.itwins)); };
  auto user = [&](int n) { return UserId(n % std::max(1, o.users)); };
  std::string y = "api:\n  base_url: " + std::string(kBaseUrl) +
                  "\nauth:\n  token_url: https://ims.bentley.com/connect/token\n"
                  "  client_id: bench\nwatch:\n  itwins: [" + itwin(0) + "]\n"
                  "  poll_interval: 30s\n  lookback: 7d\n";
  y += "estimates:\n  learn: true\n  pu_per_hour:\n    ContextSceneTiler: 40\n";
  y += "policies:\n";
  for (int i = 0; i < o.policies; ++i) {
    std::string name = "  - name: p" + std::to_string(i);
    switch (i % 8) {
      case 0:
        y += name + "-pointclouds\n    match: {types: [PointCloudConversion, PointCloudOptimization]}\n";
        if (o.regexes) y += "    exempt: {name_regex: \"-keep$\"}\n";
        y += "    limits: {max_runtime: 2h, max_queued: 30m}\n    grace: 5m\n";
        break;
      case 1:
        y += name + "-itwins\n    match: {itwins: [" + itwin(i) + ", " + itwin(i + 1) +
             "]}\n    limits: {max_runtime: 3h}\n    warn_at: 0.8\n";
        break;
      case 2:
        y += name + "-users\n    match: {users: [" + user(i) + ", " + user(i + 1) + ", " +
             user(i + 2) + ", " + user(i + 3) + "]}\n    limits: {max_queued: 20m}\n";
        break;
      case 3:
        y += name + "-pu\n    limits: {max_processing_units: 40}\n";
        break;
      case 4:
        y += name + "-mesh\n    match: {types: [MeshSampling]}\n    limits: {max_runtime: 1h}\n"
                    "    action: report\n";
        break;
      case 5:
        y += name + "-all\n    limits: {max_runtime: 12h, max_queued: 6h}\n";
        break;
      case 6:
        y += name + (o.regexes ? "-nightly\n    match: {name_regex: \"^nightly-\"}\n"
                               : "-tiles\n    match: {types: [TileMapOptimization]}\n");
        y += "    limits: {max_runtime: 30m}\n";
        break;
      default:
        y += name + "-exempt-ids\n    exempt: {ids: [" + Guid(1, 1) + ", " + Guid(2, 2) + ", " +
             Guid(3, 3) + "]}\n    limits: {max_runtime: 8h, max_processing_units: 200}\n";
        break;
    }
  }
  if (o.budgets) {
    auto limit = [&](double base) {
      return std::to_string(static_cast<long long>(base * o.budget_scale));
    };
    y += "budgets:\n"
         "  - {name: b-itwin-daily, group_by: itwin, window: daily, limit: " + limit(10000) +
         ", warn_at: 0.8}\n"
         "  - {name: b-user-weekly, group_by: user, window: weekly, timezone: Europe/Berlin,"
         " limit: " + limit(20000) + ", action: cancel_all}\n"
         "  - {name: b-type-monthly, group_by: type, window: monthly,"
         " timezone: America/New_York, limit: " + limit(250000) +
         ", action: report, count_running: false}\n"
         "  - {name: b-all-monthly, group_by: all, window: monthly, limit: " + limit(500000) + "}\n";
  }
  return y;
}

Config MakeConfig(const ConfigOptions& options) {
  LoadOptions lo;
  lo.resolve_secrets = false;
  LoadResult r = LoadConfigText(ConfigYaml(options), "bench.yaml", lo);
  if (!r.ok()) {
    std::string all;
    for (const ConfigError& e : r.errors) all += "\n  " + e.ToString();
    Die("the bench config does not load:" + all);
  }
  return std::move(*r.config);
}

}  // namespace rcw::bench
