/*
 * The Moddable simulator on Linux and macOS: a write to a socket whose peer has gone
 * (reset) must be an error, not the end of the process. The SDK's desktop sockets
 * (modules/io/socket/lin) write without MSG_NOSIGNAL, so such a write raises SIGPIPE,
 * which kills mcsim; the write's error is then never seen.
 *
 * SIGPIPE is blocked, not ignored: XS's debug connection to xsbug (xs/platforms/lin_xs.c,
 * fxConnect) sets SIGPIPE to SIG_IGN while it connects and back to SIG_DFL afterwards,
 * which would undo an ignore made earlier, but it does not touch the signal mask. With
 * SIGPIPE blocked, the write fails with EPIPE instead: the socket traces "write failed"
 * and reports onError, and the connection is closed like any other lost one.
 *
 * No JavaScript calls this: it runs when mcsim loads the app's shared object (a
 * constructor), on the thread that then runs the app, before any socket exists. Built
 * only for lin and mac (modules/core/manifest.json); the ESP32 has no signals (lwip
 * returns an error).
 */
#include <pthread.h>
#include <signal.h>

__attribute__((constructor)) static void websocketsBlockBrokenPipe(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}
