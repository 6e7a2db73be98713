// error.cpp: the cancellation flags core polls (error.hpp); unset (never
// cancelled) until the host points them at its own.
#include "error.hpp"

namespace chronicle::core {

const volatile std::sig_atomic_t* cancel_pending = nullptr;
const volatile std::sig_atomic_t* die_pending = nullptr;

}  // namespace chronicle::core
