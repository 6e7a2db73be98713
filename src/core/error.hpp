// error.hpp: the exception type of src/core; it carries a SQLSTATE for the glue.
#pragma once
#include <csignal>
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

// Cancellation (STYLE rule 6): the glue points these at the host's pending
// cancel and terminate flags; long loops call poll_cancel(), which throws
// Cancelled when one is set. The glue then lets the host handle the request.
extern const volatile std::sig_atomic_t* cancel_pending;
extern const volatile std::sig_atomic_t* die_pending;

// Cancelled is thrown by poll_cancel; its SQLSTATE is query_canceled.
class Cancelled : public Error {
 public:
  Cancelled() : Error("57014", "canceling statement due to user request") {}
};

// poll_cancel throws Cancelled when the host asked to stop.
inline void poll_cancel() {
  if ((cancel_pending != nullptr && *cancel_pending) || (die_pending != nullptr && *die_pending)) throw Cancelled();
}

}  // namespace chronicle::core
