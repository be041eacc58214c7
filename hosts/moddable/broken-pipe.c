/*
 * The Moddable simulator on Linux and macOS: a write to a socket whose peer has gone
 * (reset) must be an error, not the end of the process. The SDK's desktop sockets
 * (modules/io/socket/lin) write without MSG_NOSIGNAL, so such a write raises SIGPIPE,
 * which kills mcsim; the write's error is then never seen. Ignoring SIGPIPE makes the
 * write fail with EPIPE instead: the socket traces "write failed" and reports onError,
 * and the connection is closed like any other lost one.
 *
 * No JavaScript calls this: it runs when the app's shared object is loaded into mcsim
 * (a constructor), before any socket exists. Built only for lin and mac
 * (modules/core/manifest.json); the ESP32 has no signals (lwip returns an error).
 */
#include <signal.h>

__attribute__((constructor)) static void websocketsIgnoreBrokenPipe(void)
{
	signal(SIGPIPE, SIG_IGN);
}
