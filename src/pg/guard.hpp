// guard.hpp: the boundary between C++ (exceptions, RAII) and PostgreSQL
// (ereport, palloc). No C++ exception crosses into a PostgreSQL frame and no
// ereport jumps over a live C++ object (STYLE.md rules 1-3).
#pragma once
#include <exception>
#include <new>
#include <utility>

#include "error.hpp"
#include "pg.hpp"

namespace chronicle::pg {

// CaughtError is a C++ error copied into palloc'd memory, so that it can be
// reported after every C++ object of the failed call is gone.
struct CaughtError {
  bool cancelled = false;  // core stopped for a pending cancel or terminate
  int sqlerrcode = 0;
  char* message = nullptr;
  char* detail = nullptr;
  char* hint = nullptr;
};

// sqlstate_code turns a five-character SQLSTATE into PostgreSQL's code.
inline int sqlstate_code(const std::string& s) {
  if (s.size() != 5) return ERRCODE_INTERNAL_ERROR;
  return MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4]);
}

// copy_error copies a caught exception into err (palloc'd strings).
inline void copy_error(CaughtError* err, std::exception_ptr ep) noexcept {
  try {
    std::rethrow_exception(ep);
  } catch (const core::Cancelled& e) {
    err->cancelled = true;
    err->sqlerrcode = ERRCODE_QUERY_CANCELED;
    err->message = pstrdup(e.what());
  } catch (const core::Error& e) {
    err->sqlerrcode = sqlstate_code(e.sqlstate());
    err->message = pstrdup(e.what());
    if (!e.detail().empty()) err->detail = pstrdup(e.detail().c_str());
    if (!e.hint().empty()) err->hint = pstrdup(e.hint().c_str());
  } catch (const std::bad_alloc&) {
    err->sqlerrcode = ERRCODE_OUT_OF_MEMORY;
    err->message = pstrdup("out of memory in chronicle");
  } catch (const std::exception& e) {
    err->sqlerrcode = ERRCODE_INTERNAL_ERROR;
    err->message = pstrdup(e.what());
  } catch (...) {
    err->sqlerrcode = ERRCODE_INTERNAL_ERROR;
    err->message = pstrdup("unknown C++ exception in chronicle");
  }
}

// raise reports a copied error; it does not return.
[[noreturn]] inline void raise(const CaughtError& err) {
  ereport(ERROR, (errcode(err.sqlerrcode), errmsg("%s", err.message),
                  err.detail ? errdetail("%s", err.detail) : 0,
                  err.hint ? errhint("%s", err.hint) : 0));
  pg_unreachable();
}

// guarded runs fn (C++ code that must not call anything that can ereport)
// and turns any exception into an ERROR once fn's objects are destroyed.
template <typename Fn>
void guarded(Fn&& fn) {
  CaughtError err;
  bool failed = false;
  try {
    std::forward<Fn>(fn)();
  } catch (...) {
    failed = true;
    copy_error(&err, std::current_exception());
  }
  if (failed) {
    // A cancel or terminate request: PostgreSQL handles it (and clears it).
    if (err.cancelled) CHECK_FOR_INTERRUPTS();
    raise(err);
  }
}

}  // namespace chronicle::pg
