// The ECMA-419 TCP socket stand-in of npm run bench:moddable-cpu, mapped as
// "embedded:io/socket/tcp" in both bench apps (ahead of the SDK's own mapping: see
// bench/moddable-cpu/common/manifest.json). Our client and server import that
// specifier; the SDK's websocketclient gets this class as its `socket.io`. So both read
// the same bytes through the same class.
//
// While the harness has installed a Feed (setFeed), a new socket is an in-memory one:
// the feed hands it prepared bytes (deliver) and calls its onReadable/onWritable/onError
// like the SDK's lin socket (modules/io/socket/lin/tcp.c) would, with `this` = the
// socket. Reads, format and deliveries are native (memory-sockets.c), as the SDK's
// sockets are, with the lin socket's semantics: in "number" format read() returns one
// byte; in "buffer" format read() all, read(n) a new ArrayBuffer of n bytes, read(view)
// exactly view.byteLength bytes into it (returns the count); more than is available
// throws. Writes go to the feed (only the handshake writes) and report 1536 bytes
// writable, as after the lin socket's poll. Without a feed (and for the Listener's
// `new TCP`), the constructor returns the SDK's real socket, so the real-socket
// cross-check uses the same class.
import RealTCP from "bench/real-tcp";

let feed = null;

/** The Feed that sockets created from now on attach to; null: real sockets. */
export function setFeed(it) {
	feed = it;
}

export const WRITABLE = 1536;

export default class TCP extends Native("xs_memory_destructor") {
	constructor(options) {
		if ((undefined === options) || !((options.from instanceof TCP) || feed))
			return (undefined === options) ? new RealTCP : new RealTCP(options);
		super();
		native("xs_memory_constructor").call(this);
		const from = options.from;
		if ("number" === options.format)
			this.format = "number";
		this.feed = from ? from.feed : feed;
		this.onReadable = options.onReadable;
		this.onWritable = options.onWritable;
		this.onError = options.onError;
		this.closed = false;
		if (from) {
			native("xs_memory_adopt").call(this, from);
			from.onReadable = from.onWritable = from.onError = undefined;
		}
		this.feed.attach(this);
	}
	read() {
		return native("xs_memory_read").call(this);
	}
	get format() {
		return native("xs_memory_get_format").call(this);
	}
	set format(it) {
		native("xs_memory_set_format").call(this, it);
	}
	get remoteAddress() {
		return "127.0.0.1";
	}
	get remotePort() {
		return 40000;
	}
	write(data) {
		if (this.closed)
			throw new Error("write to closed socket");
		this.feed.written(this, ("number" === typeof data) ? Uint8Array.of(data) : ((data instanceof Uint8Array) ? data : (ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data))));
		return WRITABLE;
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
	get available() {
		return native("xs_memory_get_available").call(this);
	}
}
