/*
 * The Moddable simulator on Linux and macOS: a write to a socket whose peer has gone
 * (reset) must be an error, not the end of the process. The SDK's desktop sockets
 * (modules/io/socket/lin) write without MSG_NOSIGNAL, so such a write raises SIGPIPE,
 * which kills mcsim; the write's error is then never seen. With SIGPIPE ignored and
 * blocked the write fails with EPIPE instead: the socket traces "write failed" and
 * reports onError, and the connection is closed like any other lost one.
 *
 * Ignoring alone is not enough: a debug build connects to xsbug when its machine is
 * created, after this runs, and the SDK's fxConnect (xs/platforms/lin_xs.c) ignores
 * SIGPIPE around its connect() and then sets it back to SIG_DFL. So SIGPIPE is also
 * blocked in this thread, the one that loads the app (mcsim's dlopen) and then runs its
 * machine (fxScreenLaunch on the same call): a blocked SIGPIPE is never delivered, a
 * later signal(SIG_DFL) does not change the mask, and write() still returns EPIPE.
 * `npm run soak -- --target moddable` found this: mcsim died of SIGPIPE when a client
 * reset its connection while the app was writing to it.
 *
 * No JavaScript calls this: it runs when the app's shared object is loaded into mcsim
 * (a constructor), before any socket exists. Built only for lin and mac
 * (modules/core/manifest.json); the ESP32 has no signals (lwip returns an error).
 */
#include <pthread.h>
#include <signal.h>

__attribute__((constructor)) static void websocketsIgnoreBrokenPipe(void)
{
	sigset_t pipe;
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, NULL);
}
