#include "base/timefmt.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <limits>

namespace rcw {
namespace {

using std::chrono::days;
using std::chrono::sys_days;

// Reads exactly `n` digits at `pos`; advances pos. Returns -1 when not digits.
int ReadDigits(std::string_view s, size_t& pos, size_t n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  pos += n;
  return v;
}

bool Expect(std::string_view s, size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

Status BadTime(std::string_view what, std::string_view text) {
  std::string shown(text.substr(0, 64));
  return Status(StatusCode::kBadResponse,
                "\"" + shown + "\" is not " + std::string(what));
}

// The instants of years kMinTimestampYear..kMaxTimestampYear in UTC: what
// FormatTimestamp writes for them, ParseTimestamp reads back.
bool InRange(TimePoint t) {
  using std::chrono::year;
  static const TimePoint first = sys_days{year{kMinTimestampYear} / 1 / 1};
  static const TimePoint end = sys_days{year{kMaxTimestampYear + 1} / 1 / 1};
  return t >= first && t < end;
}

// Builds a time point from civil fields; false when the date does not exist
// or is out of range. Fields come from sscanf too, so they may be negative.
bool MakeTime(int y, int mo, int d, int h, int mi, int s, TimePoint& out) {
  if (y < kMinTimestampYear || y > kMaxTimestampYear || mo < 1 || mo > 12 || d < 1 || d > 31 ||
      h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60) {
    return false;
  }
  std::chrono::year_month_day ymd{std::chrono::year{y},
                                  std::chrono::month{static_cast<unsigned>(mo)},
                                  std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return false;
  out = sys_days{ymd} + std::chrono::hours{h} + std::chrono::minutes{mi} +
        std::chrono::seconds{s};
  return true;
}

constexpr std::array<std::string_view, 12> kMonths = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> kWeekdays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};

int MonthIndex(std::string_view name) {
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (kMonths[i] == name) return static_cast<int>(i) + 1;
  }
  return -1;
}

}  // namespace

Result<TimePoint> ParseTimestamp(std::string_view s) {
  constexpr std::string_view kWhat = "an RFC 3339 timestamp";
  size_t p = 0;
  int y = ReadDigits(s, p, 4);
  if (y < 0 || !Expect(s, p, '-')) return BadTime(kWhat, s);
  int mo = ReadDigits(s, p, 2);
  if (mo < 0 || !Expect(s, p, '-')) return BadTime(kWhat, s);
  int d = ReadDigits(s, p, 2);
  if (d < 0 || p >= s.size()) return BadTime(kWhat, s);
  char sep = s[p++];
  if (sep != 'T' && sep != 't' && sep != ' ') return BadTime(kWhat, s);
  int h = ReadDigits(s, p, 2);
  if (h < 0 || !Expect(s, p, ':')) return BadTime(kWhat, s);
  int mi = ReadDigits(s, p, 2);
  if (mi < 0 || !Expect(s, p, ':')) return BadTime(kWhat, s);
  int sec = ReadDigits(s, p, 2);
  if (sec < 0) return BadTime(kWhat, s);
  std::chrono::nanoseconds frac{0};
  if (p < s.size() && s[p] == '.') {
    ++p;
    size_t start = p;
    long long ns = 0;
    int digits = 0;
    while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p]))) {
      if (digits < 9) {
        ns = ns * 10 + (s[p] - '0');
        ++digits;
      }
      ++p;
    }
    if (p == start) return BadTime(kWhat, s);
    for (; digits < 9; ++digits) ns *= 10;
    frac = std::chrono::nanoseconds{ns};
  }
  if (p >= s.size()) return BadTime(kWhat, s);
  std::chrono::minutes offset{0};
  if (s[p] == 'Z' || s[p] == 'z') {
    ++p;
  } else if (s[p] == '+' || s[p] == '-') {
    int sign = s[p] == '-' ? -1 : 1;
    ++p;
    int oh = ReadDigits(s, p, 2);
    if (oh < 0 || oh > 23 || !Expect(s, p, ':')) return BadTime(kWhat, s);
    int om = ReadDigits(s, p, 2);
    if (om < 0 || om > 59) return BadTime(kWhat, s);
    offset = std::chrono::minutes{sign * (oh * 60 + om)};
  } else {
    return BadTime(kWhat, s);
  }
  if (p != s.size()) return BadTime(kWhat, s);
  TimePoint t;
  if (!MakeTime(y, mo, d, h, mi, sec, t)) return BadTime(kWhat, s);
  // In range after the offset too: "2261-12-31T23:59:59-01:00" is in 2262,
  // which would be formatted as a year ParseTimestamp refuses.
  t += std::chrono::duration_cast<TimePoint::duration>(frac) - offset;
  if (!InRange(t)) return BadTime(kWhat, s);
  return t;
}

namespace {

void PutDigits(char* p, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// "YYYY-MM-DDTHH:MM:SS[.mmm]Z" without printf: state.json holds one per
// ledger entry (90,000 a month), written at every save.
std::string FormatUtc(TimePoint t, bool with_ms) {
  auto ms = std::chrono::floor<std::chrono::milliseconds>(t);
  auto secs = std::chrono::floor<std::chrono::seconds>(ms);
  auto day = std::chrono::floor<days>(secs);
  std::chrono::year_month_day ymd{day};
  std::chrono::hh_mm_ss hms{secs - day};
  int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) {  // outside TimePoint's range in practice
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", year,
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    return buf;
  }
  char buf[24] = "0000-00-00T00:00:00.000";
  PutDigits(buf, static_cast<unsigned>(year), 4);
  PutDigits(buf + 5, static_cast<unsigned>(ymd.month()), 2);
  PutDigits(buf + 8, static_cast<unsigned>(ymd.day()), 2);
  PutDigits(buf + 11, static_cast<unsigned>(hms.hours().count()), 2);
  PutDigits(buf + 14, static_cast<unsigned>(hms.minutes().count()), 2);
  PutDigits(buf + 17, static_cast<unsigned>(hms.seconds().count()), 2);
  std::size_t size = 19;
  if (with_ms) {
    PutDigits(buf + 20, static_cast<unsigned>((ms - secs).count()), 3);
    size = 23;
  }
  buf[size++] = 'Z';
  return std::string(buf, size);
}

}  // namespace

std::string FormatTimestamp(TimePoint t) { return FormatUtc(t, false); }

std::string FormatTimestampMs(TimePoint t) { return FormatUtc(t, true); }

Result<TimePoint> ParseHttpDate(std::string_view s) {
  constexpr std::string_view kWhat = "an HTTP date";
  char wd[16] = {}, mon[4] = {}, zone[4] = {};
  int d = 0, y = 0, h = 0, mi = 0, sec = 0, n = 0;
  std::string buf(s.substr(0, 64));
  TimePoint t;
  // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
  if (std::sscanf(buf.c_str(), "%3s, %2d %3s %4d %2d:%2d:%2d %3s%n", wd, &d, mon, &y, &h,
                  &mi, &sec, zone, &n) == 8 &&
      static_cast<size_t>(n) == buf.size() && std::string_view(zone) == "GMT" &&
      MakeTime(y, MonthIndex(mon), d, h, mi, sec, t) && InRange(t)) {
    return t;
  }
  // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
  if (std::sscanf(buf.c_str(), "%15[A-Za-z], %2d-%3s-%2d %2d:%2d:%2d %3s%n", wd, &d, mon,
                  &y, &h, &mi, &sec, zone, &n) == 8 &&
      static_cast<size_t>(n) == buf.size() && std::string_view(zone) == "GMT" &&
      MakeTime(y + (y < 70 ? 2000 : 1900), MonthIndex(mon), d, h, mi, sec, t) && InRange(t)) {
    return t;
  }
  // asctime: Sun Nov  6 08:49:37 1994
  if (std::sscanf(buf.c_str(), "%3s %3s %d %2d:%2d:%2d %4d%n", wd, mon, &d, &h, &mi, &sec,
                  &y, &n) == 7 &&
      static_cast<size_t>(n) == buf.size() &&
      MakeTime(y, MonthIndex(mon), d, h, mi, sec, t) && InRange(t)) {
    return t;
  }
  return BadTime(kWhat, s);
}

std::string FormatHttpDate(TimePoint t) {
  auto secs = std::chrono::floor<std::chrono::seconds>(t);
  auto day = std::chrono::floor<days>(secs);
  std::chrono::year_month_day ymd{day};
  std::chrono::weekday wd{day};
  std::chrono::hh_mm_ss hms{secs - day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02d:%02d:%02d GMT",
                kWeekdays[wd.c_encoding()].data(), static_cast<unsigned>(ymd.day()),
                kMonths[static_cast<unsigned>(ymd.month()) - 1].data(),
                static_cast<int>(ymd.year()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

Result<Seconds> ParseRetryAfter(std::string_view text, TimePoint now) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (!text.empty() && std::isdigit(static_cast<unsigned char>(text.front()))) {
    long long v = 0;
    for (char c : text) {
      if (!std::isdigit(static_cast<unsigned char>(c))) {
        return BadTime("a Retry-After value", text);
      }
      v = v * 10 + (c - '0');
      if (v > 86400LL * 366) v = 86400LL * 366;  // clamp absurd values to a year
    }
    return Seconds{v};
  }
  Result<TimePoint> at = ParseHttpDate(text);
  if (!at.ok()) return BadTime("a Retry-After value", text);
  // In seconds: two TimePoints centuries apart overflow a nanosecond
  // difference. HTTP dates are whole seconds, so ceil(at - now) is this.
  Seconds delay = std::chrono::floor<Seconds>(*at).time_since_epoch() -
                  std::chrono::floor<Seconds>(now).time_since_epoch();
  return std::clamp(delay, Seconds{0}, Seconds{86400LL * 366});
}

Result<Seconds> ParseDuration(std::string_view text) {
  auto bad = [&] {
    // Appended, not "+"-concatenated: g++ 12 -O3 warns -Wrestrict on that.
    std::string message = "\"";
    message.append(text.substr(0, 64)).append("\" is not a duration (use 90s, 30m, 2h, 1d)");
    return Status(StatusCode::kInvalidConfig, std::move(message));
  };
  if (text.empty()) return bad();
  long long total = 0;
  size_t p = 0;
  while (p < text.size()) {
    long long v = 0;
    size_t start = p;
    while (p < text.size() && std::isdigit(static_cast<unsigned char>(text[p]))) {
      v = v * 10 + (text[p] - '0');
      if (v > 100LL * 365 * 86400) return bad();  // beyond any sane limit
      ++p;
    }
    if (p == start || p == text.size()) return bad();
    long long unit = 0;
    switch (text[p]) {
      case 's': unit = 1; break;
      case 'm': unit = 60; break;
      case 'h': unit = 3600; break;
      case 'd': unit = 86400; break;
      default: return bad();
    }
    ++p;
    total += v * unit;
    if (total > 100LL * 365 * 86400) return bad();
  }
  return Seconds{total};
}

std::string FormatDuration(Seconds d) {
  if (d.count() == 0) return "0s";
  std::string out = d.count() < 0 ? "-" : "";
  // The magnitude in unsigned arithmetic: -d overflows for the minimum value.
  unsigned long long s = static_cast<unsigned long long>(d.count());
  if (d.count() < 0) s = 0 - s;
  const std::pair<unsigned long long, char> units[] = {
      {86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
  for (auto [size, suffix] : units) {
    if (s >= size) {
      out += std::to_string(s / size);
      out += suffix;
      s %= size;
    }
  }
  return out;
}

}  // namespace rcw
