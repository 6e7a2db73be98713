// cli_options_test.cpp: the chronicle client's command line (src/cli/options.hpp).
#include <gtest/gtest.h>

#include "options.hpp"

using chronicle::cli::Command;
using chronicle::cli::Format;
using chronicle::cli::From;
using chronicle::cli::Options;
using chronicle::cli::parse_options;
using chronicle::cli::UsageError;

namespace {

Options parse(std::vector<std::string> args) { return parse_options(args); }

// error_of returns the UsageError message of a command line ("" if none).
std::string error_of(std::vector<std::string> args) {
  try {
    parse_options(args);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(CliOptions, TailDefaults) {
  Options o = parse({"tail", "orders_events"});
  EXPECT_EQ(o.command, Command::Tail);
  EXPECT_EQ(o.table, "orders_events");
  EXPECT_EQ(o.from, From::Default);
  EXPECT_FALSE(o.follow);
  EXPECT_FALSE(o.stream.has_value());
  EXPECT_EQ(o.batch_size, 1000);
  EXPECT_FALSE(o.retries.has_value());
}

TEST(CliOptions, TailAllForms) {
  Options o = parse({"-d", "shop", "tail", "--stream=cart-1", "--from", "42", "-f", "public.cart_events",
                     "--poll-interval=0.5", "-hlocalhost", "--port=5433", "-U", "me", "--retries", "3"});
  EXPECT_EQ(o.conn.dbname, "shop");
  EXPECT_EQ(o.conn.host, "localhost");
  EXPECT_EQ(o.conn.port, "5433");
  EXPECT_EQ(o.conn.user, "me");
  EXPECT_EQ(*o.stream, "cart-1");
  EXPECT_EQ(o.from, From::Position);
  EXPECT_EQ(o.from_position, 42);
  EXPECT_TRUE(o.follow);
  EXPECT_EQ(o.table, "public.cart_events");
  EXPECT_DOUBLE_EQ(o.poll_interval, 0.5);
  EXPECT_EQ(*o.retries, 3);
}

TEST(CliOptions, ConnectionStringInDbname) {
  Options o = parse({"tail", "t", "--dbname", "postgresql://u@h:5/db?sslmode=disable"});
  EXPECT_EQ(o.conn.dbname, "postgresql://u@h:5/db?sslmode=disable");
}

TEST(CliOptions, CombinedShortFlags) {
  Options o = parse({"tail", "-fvw", "t"});
  EXPECT_TRUE(o.follow);
  EXPECT_TRUE(o.verbose);
  EXPECT_TRUE(o.conn.no_password);
}

TEST(CliOptions, FromChoicesExclusive) {
  EXPECT_EQ(parse({"tail", "t", "--from-start"}).from, From::Start);
  EXPECT_EQ(parse({"tail", "t", "--from-now"}).from, From::Now);
  EXPECT_NE(error_of({"tail", "t", "--from-now", "--from=3"}).find("only one of"), std::string::npos);
  EXPECT_NE(error_of({"tail", "t", "--from=-1"}).find("invalid value \"-1\" for --from"), std::string::npos);
  EXPECT_NE(error_of({"tail", "t", "--from=12x"}).find("invalid value"), std::string::npos);
  EXPECT_NE(error_of({"tail", "t", "--from=99999999999999999999"}).find("invalid value"), std::string::npos);
  EXPECT_EQ(parse({"tail", "t", "--from=9223372036854775807"}).from_position, INT64_MAX);
}

TEST(CliOptions, Consume) {
  Options o = parse({"consume", "billing", "orders", "--batch-size", "50", "--once", "--", "kcat", "-P", "-t", "x"});
  EXPECT_EQ(o.command, Command::Consume);
  EXPECT_EQ(o.group, "billing");
  EXPECT_EQ(o.table, "orders");
  EXPECT_EQ(o.batch_size, 50);
  EXPECT_TRUE(o.once);
  // Options after "--" belong to COMMAND.
  EXPECT_EQ(o.command_argv, (std::vector<std::string>{"kcat", "-P", "-t", "x"}));
  EXPECT_EQ(parse({"consume", "g", "t", "--", "cat"}).batch_size, 1000);
}

TEST(CliOptions, ConsumeNeedsCommand) {
  EXPECT_NE(error_of({"consume", "g", "t"}).find("needs a COMMAND"), std::string::npos);
  EXPECT_NE(error_of({"consume", "g", "t", "--"}).find("needs a COMMAND"), std::string::npos);
  EXPECT_NE(error_of({"consume", "g", "--", "cat"}).find("needs a GROUP and a TABLE"), std::string::npos);
  EXPECT_NE(error_of({"consume", "", "t", "--", "cat"}).find("GROUP must not be empty"), std::string::npos);
}

TEST(CliOptions, AsOf) {
  Options o = parse({"as-of", "orders", "--known-at", "2026-11-27 10:00+00", "--valid-at=2026-01-01", "--format=json"});
  EXPECT_EQ(o.command, Command::AsOf);
  EXPECT_EQ(*o.known_at, "2026-11-27 10:00+00");
  EXPECT_EQ(*o.valid_at, "2026-01-01");
  EXPECT_EQ(o.format, Format::Json);
  EXPECT_EQ(parse({"as-of", "orders"}).format, Format::Csv);
  EXPECT_NE(error_of({"as-of", "orders", "--format=xml"}).find("csv or json"), std::string::npos);
}

TEST(CliOptions, BadUsage) {
  EXPECT_NE(error_of({}).find("no command"), std::string::npos);
  EXPECT_NE(error_of({"frobnicate"}).find("unknown command \"frobnicate\""), std::string::npos);
  EXPECT_NE(error_of({"tail"}).find("tail needs a TABLE"), std::string::npos);
  EXPECT_NE(error_of({"tail", "a", "b"}).find("too many arguments, starting with \"b\""), std::string::npos);
  EXPECT_NE(error_of({"tail", "t", "--bogus"}).find("unrecognized option \"--bogus\""), std::string::npos);
  EXPECT_NE(error_of({"tail", "t", "-x"}).find("unrecognized option \"-x\""), std::string::npos);
  EXPECT_NE(error_of({"tail", "t", "--stream"}).find("needs a value"), std::string::npos);
  EXPECT_NE(error_of({"tail", "t", "-d"}).find("needs a value"), std::string::npos);
  EXPECT_NE(error_of({"tail", "t", "--follow=yes"}).find("takes no value"), std::string::npos);
  EXPECT_NE(error_of({"tail", "t", "--once"}).find("does not apply to tail"), std::string::npos);
  EXPECT_NE(error_of({"as-of", "t", "--follow"}).find("does not apply to as-of"), std::string::npos);
  EXPECT_NE(error_of({"tail", "t", "--batch-size=0"}).find("from 1 to 1000000"), std::string::npos);
  EXPECT_NE(error_of({"tail", "t", "--poll-interval=0"}).find("seconds"), std::string::npos);
  EXPECT_NE(error_of({"tail", ""}).find("TABLE must not be empty"), std::string::npos);
  // There is no option that takes a password.
  EXPECT_NE(error_of({"tail", "t", "--password=secret"}).find("takes no value"), std::string::npos);
}

TEST(CliOptions, HelpAndVersionNeedNothingElse) {
  EXPECT_TRUE(parse({"--help"}).help);
  EXPECT_TRUE(parse({"-?"}).help);
  Options o = parse({"consume", "--help"});
  EXPECT_TRUE(o.help);
  EXPECT_EQ(o.command, Command::Consume);
  EXPECT_TRUE(parse({"-V"}).version);
  EXPECT_TRUE(parse({"--version"}).version);
}

}  // namespace
