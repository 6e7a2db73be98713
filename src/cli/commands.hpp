// commands.hpp: the client's commands. Each returns the exit status and
// throws UsageError (status 2), ConnectError (2: could not connect at
// start) or DbError and std::runtime_error (1).
#pragma once
#include <optional>
#include <string>

#include "options.hpp"

struct pg_result;

namespace chronicle::cli {

constexpr int kExitOk = 0, kExitError = 1, kExitUsage = 2;

// run_tail prints a table's events as JSON Lines (tail.cpp).
int run_tail(const Options& o);
// run_consume feeds a consumer group's batches to a command (consume.cpp).
int run_consume(const Options& o);
// run_as_of dumps a tracked table as it was (asof.cpp).
int run_as_of(const Options& o);

// kEventColumns is the select list of an event, in jsonl.hpp's order.
extern const char* const kEventColumns;

// append_rows appends the rows of a binary-format result of kEventColumns
// to out as JSON Lines (of one stream only, when stream is given).
void append_rows(std::string& out, const pg_result* r, const std::optional<std::string>& stream);

}  // namespace chronicle::cli
