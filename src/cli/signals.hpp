// signals.hpp: clean stops on SIGINT and SIGTERM, and waits that such a
// stop interrupts. The first signal only asks to stop (the current event
// batch is finished); a second one kills, as the default action would.
#pragma once

namespace chronicle::cli {

// install_signal_handlers sets up SIGINT and SIGTERM and ignores SIGPIPE
// (broken pipes come back as EPIPE).
void install_signal_handlers();

// stop_requested tells whether SIGINT or SIGTERM has arrived.
bool stop_requested();

enum class Wake { Readable, Stop, Timeout };

// wait_readable waits until fd is readable (or closed), a stop is requested
// or timeout_seconds pass. fd < 0 waits for a stop or the timeout only.
Wake wait_readable(int fd, double timeout_seconds);

// sleep_unless_stopped sleeps; false when a stop request cut it short.
bool sleep_unless_stopped(double seconds);

}  // namespace chronicle::cli
