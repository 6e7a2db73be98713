// guc.cpp: chronicle's settings, validated when they are SET.
#include "guc.hpp"

extern "C" {
#include "common/jsonapi.h"
#include "mb/pg_wchar.h"
#include "utils/datetime.h"
#include "utils/guc.h"
}

namespace chronicle::pg {

static char* valid_from_text = nullptr;
static char* valid_to_text = nullptr;
static char* meta_text = nullptr;
static char* known_at_text = nullptr;
static char* valid_at_text = nullptr;
// Values set before the library was loaded were not validated then; they
// are checked again here and refused at first use.
static bool valid_from_bad = false, valid_to_bad = false, meta_bad = false;
static bool known_at_bad = false, valid_at_bad = false;

// A valid SET (or RESET) clears what a bad value set before loading left.
static void assign_valid_from(const char*, void*) { valid_from_bad = false; }
static void assign_valid_to(const char*, void*) { valid_to_bad = false; }
static void assign_meta(const char*, void*) { meta_bad = false; }
static void assign_known_at(const char*, void*) { known_at_bad = false; }
static void assign_valid_at(const char*, void*) { valid_at_bad = false; }

// parse_timestamptz parses text as timestamptz without raising errors.
static bool parse_timestamptz(const char* text, TimestampTz* out) {
  char* field[MAXDATEFIELDS];
  int ftype[MAXDATEFIELDS];
  char workbuf[MAXDATELEN + MAXDATEFIELDS];
  int nf, dtype, tz;
  struct pg_tm tt, *tm = &tt;
  fsec_t fsec;
  if (strlen(text) >= MAXDATELEN) return false;
  int dterr = ParseDateTime(text, workbuf, sizeof(workbuf), field, ftype, MAXDATEFIELDS, &nf);
#if PG_VERSION_NUM >= 160000
  DateTimeErrorExtra extra;
  if (dterr == 0) dterr = DecodeDateTime(field, ftype, nf, &dtype, tm, &fsec, &tz, &extra);
#else
  if (dterr == 0) dterr = DecodeDateTime(field, ftype, nf, &dtype, tm, &fsec, &tz);
#endif
  if (dterr != 0) return false;
  switch (dtype) {
    case DTK_DATE:
      return tm2timestamp(tm, fsec, &tz, out) == 0 && IS_VALID_TIMESTAMP(*out);
    case DTK_EPOCH:
      *out = SetEpochTimestamp();
      return true;
    case DTK_LATE:
      *out = DT_NOEND;
      return true;
    case DTK_EARLY:
      *out = DT_NOBEGIN;
      return true;
    default:
      return false;
  }
}

// check_time_setting is the check hook of the timestamptz settings.
static bool check_time_setting(char** newval, void**, GucSource) {
  TimestampTz t;
  if (*newval == nullptr || (*newval)[0] == '\0') return true;
  if (parse_timestamptz(*newval, &t)) return true;
  GUC_check_errcode(ERRCODE_INVALID_DATETIME_FORMAT);
  GUC_check_errdetail("\"%s\" is not a valid timestamp with time zone.", *newval);
  return false;
}

// check_meta is the check hook of chronicle.meta: a JSON object.
static bool check_meta(char** newval, void**, GucSource) {
  if (*newval == nullptr || (*newval)[0] == '\0') return true;
  const char* s = *newval;
  while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
  JsonLexContext* lex = makeJsonLexContextCstringLen(*newval, strlen(*newval), GetDatabaseEncoding(), true);
  JsonParseErrorType rc = pg_parse_json(lex, &nullSemAction);
  if (rc == JSON_SUCCESS && *s == '{') return true;
  GUC_check_errcode(ERRCODE_INVALID_TEXT_REPRESENTATION);
  GUC_check_errdetail("chronicle.meta must be a JSON object.");
  return false;
}

// time_setting reads a timestamptz setting.
TimeSetting time_setting(const char* name, const char* text, bool bad) {
  TimeSetting s{false, 0};
  if (bad)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("invalid value for parameter \"%s\"", name),
                    errhint("It was set before chronicle was loaded; SET it again.")));
  if (text == nullptr || text[0] == '\0') return s;
  if (!parse_timestamptz(text, &s.value))
    ereport(ERROR, (errcode(ERRCODE_INVALID_DATETIME_FORMAT),
                    errmsg("invalid value for parameter \"%s\": \"%s\"", name, text)));
  s.set = true;
  return s;
}

// capture_valid_from returns chronicle.valid_from.
TimeSetting capture_valid_from() { return time_setting("chronicle.valid_from", valid_from_text, valid_from_bad); }

// capture_valid_to returns chronicle.valid_to.
TimeSetting capture_valid_to() { return time_setting("chronicle.valid_to", valid_to_text, valid_to_bad); }

// capture_meta returns chronicle.meta or nullptr.
const char* capture_meta() {
  if (meta_bad)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("invalid value for parameter \"chronicle.meta\""),
                    errhint("It was set before chronicle was loaded; SET it again.")));
  return (meta_text == nullptr || meta_text[0] == '\0') ? nullptr : meta_text;
}

// placeholder_is_bad tells whether a value set before loading fails check.
static bool placeholder_is_bad(const char* name, bool (*check)(char**, void**, GucSource)) {
  const char* v = GetConfigOption(name, true, false);
  if (v == nullptr || v[0] == '\0') return false;
  char* copy = pstrdup(v);
  void* extra = nullptr;
  bool ok = check(&copy, &extra, PGC_S_SESSION);
  FlushErrorState();
  return !ok;
}

// define_gucs defines chronicle's settings.
void define_gucs() {
  valid_from_bad = placeholder_is_bad("chronicle.valid_from", check_time_setting);
  valid_to_bad = placeholder_is_bad("chronicle.valid_to", check_time_setting);
  meta_bad = placeholder_is_bad("chronicle.meta", check_meta);
  known_at_bad = placeholder_is_bad("chronicle.known_at", check_time_setting);
  valid_at_bad = placeholder_is_bad("chronicle.valid_at", check_time_setting);
  DefineCustomStringVariable("chronicle.valid_from",
                             "Valid-from time of the changes captured in this transaction.",
                             "Empty: changes are valid from the moment they are recorded.",
                             &valid_from_text, "", PGC_USERSET, 0, check_time_setting, assign_valid_from, nullptr);
  DefineCustomStringVariable("chronicle.valid_to",
                             "Valid-to time of the changes captured in this transaction.",
                             "Empty: changes are valid until infinity.", &valid_to_text, "",
                             PGC_USERSET, 0, check_time_setting, assign_valid_to, nullptr);
  DefineCustomStringVariable("chronicle.meta", "JSON object attached to every captured change.",
                             nullptr, &meta_text, "", PGC_USERSET, 0, check_meta, assign_meta, nullptr);
  DefineCustomStringVariable("chronicle.known_at",
                             "Transaction time at which time-travel views show their tables.",
                             "Empty: now.", &known_at_text, "", PGC_USERSET, 0, check_time_setting,
                             assign_known_at, nullptr);
  DefineCustomStringVariable("chronicle.valid_at",
                             "Valid time at which time-travel views show their tables.", "Empty: now.",
                             &valid_at_text, "", PGC_USERSET, 0, check_time_setting, assign_valid_at, nullptr);
  MarkGUCPrefixReserved("chronicle");
}

}  // namespace chronicle::pg

using namespace chronicle::pg;

extern "C" {
PG_FUNCTION_INFO_V1(chronicle_setting_ts);
}

// chronicle_setting_ts implements chronicle._setting_ts(name): the value of
// chronicle.known_at or chronicle.valid_at, NULL when empty (time-travel views).
extern "C" Datum chronicle_setting_ts(PG_FUNCTION_ARGS) {
  const char* name = text_to_cstring(PG_GETARG_TEXT_PP(0));
  TimeSetting t{false, 0};
  if (strcmp(name, "chronicle.known_at") == 0)
    t = time_setting(name, known_at_text, known_at_bad);
  else if (strcmp(name, "chronicle.valid_at") == 0)
    t = time_setting(name, valid_at_text, valid_at_bad);
  else
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("not a chronicle time setting: \"%s\"", name)));
  if (!t.set) PG_RETURN_NULL();
  PG_RETURN_TIMESTAMPTZ(t.value);
}
