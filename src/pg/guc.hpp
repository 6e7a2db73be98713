// guc.hpp: chronicle's settings: the valid time and metadata of captured
// changes (chronicle.valid_from, chronicle.valid_to, chronicle.meta) and the
// horizon of time-travel views (chronicle.known_at, chronicle.valid_at).
#pragma once
#include "pg.hpp"

namespace chronicle::pg {

// Setting is a parsed timestamptz setting; set is false when empty.
struct TimeSetting {
  bool set;
  TimestampTz value;
};

// capture_valid_from / capture_valid_to return the transaction's
// chronicle.valid_from / chronicle.valid_to; they raise 22023 when a value
// given before the library was loaded could not be parsed.
TimeSetting capture_valid_from();
TimeSetting capture_valid_to();

// time_setting reads a timestamptz setting (bad: set invalid before load).
TimeSetting time_setting(const char* name, const char* text, bool bad);

// capture_meta returns chronicle.meta (a JSON object text) or nullptr.
const char* capture_meta();

// define_gucs defines the settings; called from _PG_init.
void define_gucs();

}  // namespace chronicle::pg
