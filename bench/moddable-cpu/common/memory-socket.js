// The stand-in for the SDK's older `socket` module (a Socket of
// $MODDABLE/modules/network/socket), which the SDK's `websocket` server reads: the same
// Feed hands it the same prepared bytes as the ECMA-419 stand-in (./memory-tcp.js), and
// the same native code (memory-sockets.c) holds them. Like the lin implementation
// (modules/network/socket/lin/modSocket.c), the bytes of one delivery exist only during
// the callback(2, count) that reports them; what the callback leaves unread is dropped
// (the feed counts it, and the bench fails).
//   read()                      bytes available
//   read(Number)                one byte
//   read(String[, limit])       a string of the bytes up to `limit` (a count, or a
//                               terminator character: up to and including it)
//   read(ArrayBuffer[, limit])  a new ArrayBuffer
//   read(null[, limit])         skip; returns the count skipped
//   write(...items)             strings, bytes (numbers) and buffers, to the feed
export class MemorySocket extends Native("xs_memory_destructor") {
	constructor(feed) {
		super();
		native("xs_memory_constructor").call(this);
		this.feed = feed;
		this.callback = undefined;
		this.closed = false;
		feed.attach(this);
	}
	read() {
		return native("xs_memory_socket_read").call(this);
	}
	write(...items) {
		if (this.closed)
			throw new Error("write on closed socket");
		if (!items.length)
			return 1024;
		for (const item of items) {
			if ("string" === typeof item)
				this.feed.written(this, new Uint8Array(ArrayBuffer.fromString(item)));
			else if ("number" === typeof item)
				this.feed.written(this, Uint8Array.of(item));
			else
				this.feed.written(this, ArrayBuffer.isView(item) ? new Uint8Array(item.buffer, item.byteOffset, item.byteLength) : new Uint8Array(item));
		}
	}
	close() {
		if (this.closed)
			return;
		this.closed = true;
		this.drop();
		this.feed.closed(this);
	}
	/** Feed: count more bytes from bytes[offset]; returns the bytes available. */
	deliver(bytes, offset, count) {
		return native("xs_memory_deliver").call(this, bytes, offset, count);
	}
	/** Feed: forget what is unread; returns how much that was. */
	drop() {
		return native("xs_memory_drop").call(this);
	}
}
