/*
 * The Moddable simulator on Linux: keep its timers alive past 65,535 of them.
 *
 * The SDK's Linux timers (modules/base/timer/lin/timer.c, SDK 8.2.3) number each new
 * timer with a 16-bit counter, and a timer whose number is 0 is removed and freed the
 * first time it is due, without its callback. Every 65,536th timer the app creates
 * gets 0. Timers are created all the time by a busy server: one per socket taken from
 * the listener (the socket's 20 ms poll), one per `Timer.set`. The unlucky one is lost:
 * a socket that is never polled again (the connection hangs), a timeout that never
 * fires; and its owner still holds the freed record, which it frees again when it
 * closes: the simulator then dies (SIGSEGV) or corrupts another timer. Under a
 * connection flood that happens within minutes. The same 70,000-timer chain with the
 * SDK alone stops at 65,533 callbacks; test/moddable/timers.test.ts runs such a chain.
 *
 * What this does: every 20 ms it creates a probe timer, reads its number and
 * removes it at once. When the numbers come within PROBE_MARGIN of wrapping, it creates
 * and removes probes until one has taken number 0: removed before it was due, that
 * record is freed normally, and the counter has moved past 0 with nothing lost.
 *
 * Reading the number means knowing where the SDK keeps it: the record's layout is
 * checked against what the public API reports (the callback, refcon place and size, the
 * intervals, the use count, consecutive numbers) before anything else is done; with a
 * layout it does not recognise the guard prints one line on stderr and stays off. No JavaScript
 * calls this: it starts when mcsim loads the app's shared object. Linux only (macOS's
 * timers have no numbers, Windows numbers them with 32 bits; the ESP32's have none).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <glib.h>
#include "modTimer.h"

enum {
	GUARD_INTERVAL_MS = 20, /* as often as the SDK polls a socket */
	PROBE_MARGIN = 16384, /* numbers the app may use up between two checks: 819,200 timers a second */
	PROBE_DELAY_MS = 1 << 30, /* a probe is never due: it is removed right after */
	PROBE_REFCON = 0x5eed, /* what a probe carries, to recognise it */
};

/* The record as modules/base/timer/lin/timer.c lays it out; checked before use. */
struct LinTimerRecord {
	struct LinTimerRecord *next;
	unsigned int sourceId;
	int16_t number;
	int8_t useCount;
	int32_t first;
	int32_t interval;
	modTimerCallback callback;
	uint32_t refconSize;
	char refcon[1];
};

static void neverCalled(modTimer timer, void *refcon, int refconSize)
{
}

static int layoutMatches(modTimer timer, int32_t first)
{
	struct LinTimerRecord *record = (struct LinTimerRecord *)timer;
	return ((char *)modTimerGetRefcon(timer) - (char *)timer) == offsetof(struct LinTimerRecord, refcon)
		&& record->callback == neverCalled
		&& record->refconSize == sizeof(int32_t)
		&& *(int32_t *)record->refcon == PROBE_REFCON
		&& record->first == first
		&& record->interval == 0
		&& record->useCount == 1
		&& record->next == NULL; /* the newest timer ends the list */
}

/* The number a new timer gets now: a probe takes it, is read and removed before it is due. */
static int16_t probeNumber(void)
{
	int32_t refcon = PROBE_REFCON;
	modTimer probe = modTimerAdd(PROBE_DELAY_MS, 0, neverCalled, &refcon, sizeof(refcon));
	if (!probe) return 1;
	int16_t number = ((struct LinTimerRecord *)probe)->number;
	modTimerRemove(probe);
	return number;
}

static int checkLayout(void)
{
	int32_t refcon = PROBE_REFCON;
	modTimer a = modTimerAdd(PROBE_DELAY_MS, 0, neverCalled, &refcon, sizeof(refcon));
	modTimer b = modTimerAdd(PROBE_DELAY_MS + 1, 0, neverCalled, &refcon, sizeof(refcon));
	int known = a && b && layoutMatches(b, PROBE_DELAY_MS + 1)
		&& ((struct LinTimerRecord *)a)->next == (struct LinTimerRecord *)b
		&& (int16_t)(((struct LinTimerRecord *)a)->number + 1) == ((struct LinTimerRecord *)b)->number;
	if (b) modTimerRemove(b);
	if (a) modTimerRemove(a);
	return known;
}

/* A GLib source of its own, at high priority: the SDK's 0 ms timers are high-priority
   sources too, and a chain of them would keep a default-priority check from running. */
static gboolean guard(gpointer data)
{
	int16_t number = probeNumber();
	if ((number < 0) && (number >= -PROBE_MARGIN)) {
		while (probeNumber() != 0)
			;
	}
	return G_SOURCE_CONTINUE;
}

__attribute__((constructor)) static void websocketsGuardTimerNumbers(void)
{
	if (!checkLayout()) {
		fprintf(stderr, "websockets: unknown layout of the SDK's Linux timers; timer numbers are not guarded (a timer may be lost after 65,535)\n");
		return;
	}
	g_timeout_add_full(G_PRIORITY_HIGH, GUARD_INTERVAL_MS, guard, NULL, NULL);
}
