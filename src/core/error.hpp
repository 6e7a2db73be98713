// error.hpp: the exception type of src/core; it carries a SQLSTATE for the glue.
#pragma once
#include <stdexcept>
#include <string>

namespace chronicle::core {

// Error is thrown by core code; sqlstate is a five-character SQLSTATE
// (e.g. "22P02") that the PostgreSQL glue maps to an ERRCODE.
class Error : public std::runtime_error {
 public:
  Error(std::string sqlstate, const std::string& message, std::string detail = {},
        std::string hint = {})
      : std::runtime_error(message),
        sqlstate_(std::move(sqlstate)),
        detail_(std::move(detail)),
        hint_(std::move(hint)) {}
  const std::string& sqlstate() const noexcept { return sqlstate_; }
  const std::string& detail() const noexcept { return detail_; }
  const std::string& hint() const noexcept { return hint_; }

 private:
  std::string sqlstate_, detail_, hint_;
};

}  // namespace chronicle::core
