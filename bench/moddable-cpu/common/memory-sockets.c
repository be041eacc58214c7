/*
 * The native part of the in-memory sockets of npm run bench:moddable-cpu
 * (memory-tcp.js: ECMA-419 TCP; memory-socket.js: the SDK's older `socket` API).
 *
 * The SDK's own sockets are native, so these are too: a stand-in in JavaScript costs
 * 0.3-1 us more per call than a native one, and the SDK's client and server make a few
 * calls per frame (a byte at a time for headers, a format switch per frame) where ours
 * reads 1 KiB at a time: with JavaScript stand-ins the figures at 16 B would measure
 * the stand-in. Like the lin TCP socket ($MODDABLE/modules/io/socket/lin/tcp.c), each
 * socket has its own read buffer: a delivery moves what is still unread to the front and
 * copies the next bytes behind it; reads copy out of it.
 */

#include "xsmc.h"
#include "mc.xs.h"
#include "builtinCommon.h"
#include <string.h>

#define kMemoryBufferSize (32768)

typedef struct {
	uint32_t	position;
	uint32_t	available;
	uint8_t		format;
	uint8_t		buffer[kMemoryBufferSize];
} MemoryRecord;

void xs_memory_destructor(void *data)
{
	if (data)
		c_free(data);
}

static const xsHostHooks xsMemoryHooks = {
	xs_memory_destructor,
	NULL,
	NULL
};

static MemoryRecord *getRecord(xsMachine *the, xsSlot *slot)
{
	MemoryRecord *m = xsmcGetHostDataValidate(*slot, (void *)&xsMemoryHooks);
	if (!m)
		xsUnknownError("closed");
	return m;
}

void xs_memory_constructor(xsMachine *the)
{
	MemoryRecord *m = c_calloc(1, sizeof(MemoryRecord));
	if (!m)
		xsRangeError("no memory");
	m->format = kIOFormatBuffer;
	xsmcSetHostData(xsThis, m);
	xsSetHostHooks(xsThis, (xsHostHooks *)&xsMemoryHooks);
}

/* Takes over another socket's unread bytes (ECMA-419 `from`). */
void xs_memory_adopt(xsMachine *the)
{
	MemoryRecord *m = getRecord(the, &xsThis);
	MemoryRecord *from = getRecord(the, &xsArg(0));
	c_memmove(m->buffer, from->buffer + from->position, from->available);
	m->position = 0;
	m->available = from->available;
	from->position = from->available = 0;
}

/* deliver(bytes, offset, count): count more bytes from bytes[offset]; returns the bytes available. */
void xs_memory_deliver(xsMachine *the)
{
	MemoryRecord *m = getRecord(the, &xsThis);
	void *data;
	xsUnsignedValue length;
	uint32_t offset = xsmcToInteger(xsArg(1));
	uint32_t count = xsmcToInteger(xsArg(2));

	xsmcGetBufferReadable(xsArg(0), &data, &length);
	if ((offset > length) || (count > (length - offset)))
		xsRangeError("outside the data");
	if (m->position) {
		if (m->available)
			c_memmove(m->buffer, m->buffer + m->position, m->available);
		m->position = 0;
	}
	if (count > (kMemoryBufferSize - m->available))
		xsRangeError("delivery too large");
	c_memcpy(m->buffer + m->available, (uint8_t *)data + offset, count);
	m->available += count;
	xsmcSetInteger(xsResult, m->available);
}

/* Drops what is unread (the older socket API keeps a delivery only during its callback); returns how much. */
void xs_memory_drop(xsMachine *the)
{
	MemoryRecord *m = getRecord(the, &xsThis);
	xsmcSetInteger(xsResult, m->available);
	m->position = m->available = 0;
}

void xs_memory_get_available(xsMachine *the)
{
	MemoryRecord *m = getRecord(the, &xsThis);
	xsmcSetInteger(xsResult, m->available);
}

void xs_memory_get_format(xsMachine *the)
{
	MemoryRecord *m = getRecord(the, &xsThis);
	builtinGetFormat(the, m->format);
}

void xs_memory_set_format(xsMachine *the)
{
	MemoryRecord *m = getRecord(the, &xsThis);
	uint8_t format = builtinSetFormat(the);
	if ((kIOFormatNumber != format) && (kIOFormatBuffer != format))
		xsRangeError("unimplemented");
	m->format = format;
}

/* Copies n unread bytes to out and consumes them. */
static void take(MemoryRecord *m, void *out, uint32_t n)
{
	c_memcpy(out, m->buffer + m->position, n);
	m->position += n;
	m->available -= n;
}

/*
 * ECMA-419 read() with the lin TCP socket's behaviour: nothing when nothing is unread;
 * "number" format: the next byte; "buffer" format: read() everything unread as a new
 * ArrayBuffer, read(n) n bytes as a new ArrayBuffer, read(buffer) fills the whole buffer
 * (or view) and returns its length; asking for more than is unread throws.
 */
void xs_memory_read(xsMachine *the)
{
	MemoryRecord *m = getRecord(the, &xsThis);
	uint8_t byte;

	if (0 == m->available)
		return;
	if (kIOFormatNumber == m->format) {
		take(m, &byte, 1);
		xsmcSetInteger(xsResult, byte);
		return;
	}
	if ((xsmcArgc > 0) && (xsReferenceType == xsmcTypeOf(xsArg(0)))) {
		void *target;
		xsUnsignedValue size;
		xsmcGetBufferWritable(xsArg(0), &target, &size);
		if ((0 == size) || (size > m->available))
			xsUnknownError("invalid");
		take(m, target, (uint32_t)size);
		xsmcSetInteger(xsResult, size);
	}
	else {
		int32_t n = (xsmcArgc > 0) ? xsmcToInteger(xsArg(0)) : (int32_t)m->available;
		if ((n <= 0) || ((uint32_t)n > m->available))
			xsUnknownError("invalid");
		take(m, xsmcSetArrayBuffer(xsResult, NULL, n), (uint32_t)n);
	}
}

/* Whether slot is the global constructor `id` (String, Number or ArrayBuffer). */
static uint8_t isGlobal(xsMachine *the, xsSlot *slot, xsIdentifier id)
{
	xsmcGet(xsVar(0), xsGlobal, id);
	return fxToReference(the, slot) == fxToReference(the, &xsVar(0));
}

/*
 * The older socket API's read(type, limit) with the lin socket module's behaviour:
 * read() is the count of unread bytes; otherwise nothing when nothing is unread; `limit`
 * caps the count (a number) or ends it after the first occurrence of a character (a
 * string); type null skips, Number returns one byte, String a string, ArrayBuffer a new
 * ArrayBuffer.
 */
void xs_memory_socket_read(xsMachine *the)
{
	MemoryRecord *m = getRecord(the, &xsThis);
	uint32_t n;

	if (0 == xsmcArgc) {
		xsmcSetInteger(xsResult, m->available);
		return;
	}
	if (0 == m->available)
		return;
	n = m->available;
	if (xsmcArgc > 1) {
		xsType kind = xsmcTypeOf(xsArg(1));
		if ((xsIntegerType == kind) || (xsNumberType == kind)) {
			int32_t limit = xsmcToInteger(xsArg(1));
			if ((limit >= 0) && ((uint32_t)limit < n))
				n = (uint32_t)limit;
		}
		else if (xsStringType == kind) {
			char stop = xsmcToString(xsArg(1))[0];
			uint8_t *found = stop ? memchr(m->buffer + m->position, stop, n) : NULL;
			if (found)
				n = (uint32_t)(found - (m->buffer + m->position)) + 1;
		}
	}
	if (xsNullType == xsmcTypeOf(xsArg(0))) {
		m->position += n;
		m->available -= n;
		xsmcSetInteger(xsResult, n);
		return;
	}
	xsmcVars(1);
	if (isGlobal(the, &xsArg(0), xsID_Number)) {
		uint8_t byte;
		take(m, &byte, 1);
		xsmcSetInteger(xsResult, byte);
	}
	else if (isGlobal(the, &xsArg(0), xsID_ArrayBuffer))
		take(m, xsmcSetArrayBuffer(xsResult, NULL, n), n);
	else if (isGlobal(the, &xsArg(0), xsID_String)) {
		xsmcSetStringBuffer(xsResult, (char *)(m->buffer + m->position), n);
		m->position += n;
		m->available -= n;
	}
	else
		xsUnknownError("unsupported output type");
}
