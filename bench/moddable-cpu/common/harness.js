// The timing loop of npm run bench:moddable-cpu, shared by both bench apps: each app
// passes runBench() its implementation (cpu-ours/main.js, cpu-moddable/main.js):
//   client(sink)        a client connecting to ws://127.0.0.1/ whose messages go to sink
//   server(feed, sink)  a server handed one in-memory socket of `feed`
//   real(port, sink)    a client connecting to ws://127.0.0.1:port/ over the real socket
//   oldSocketServer     true: its server reads the older `socket` API (MemorySocket)
// For each size and side it opens a connection on a Feed (handshake untimed), runs one
// verification pass (every byte checksummed), one warm-up pass, then `repeat` timed
// measurements: passes over the same prepared frames, synchronously, until at least
// minMs have passed (Time.ticks, ms). Nothing else runs during a measurement: no timer
// fires and no socket is polled. Each measurement is bracketed by a MARK line and its TIME
// line, each followed by gapMs of idling, so that the runner can read the simulator's CPU
// time between them (while the app is idle) and count CPU time, not wall time. Report
// lines (trace, stdout in a release build):
//   BENCH <impl> minMs=<n> repeat=<n>
//   VERIFY <impl> <side> <size> <messages> <bytes> <errors> <adler32> <dropped>
//   ALLOC <impl> <side> <size> <messages> <errors> <slot bytes> <chunk bytes>  (instrumented
//         builds only: one pass with the garbage collector off; with config.allocOnly
//         nothing else is measured)
//   MARK <impl> <side> <size>
//   TIME <impl> <side> <size> <passes> <messages> <bytes> <errors> <ms>
//   FAIL <impl> <side> <size> <reason>
//   MEMORY done
// then, with config.realPort, the real-socket cross-check: the client connects to the
// runner's server, traces "REAL open", and after each batch (ended by an empty message)
// "REAL batch <size> <messages> <bytes> <errors>"; batches come in SIZES order.
import Timer from "timer";
import Time from "time";
import config from "mc/config";
import { Digest } from "crypt";
import { SIZES, makeStream } from "bench/frames";
import { setFeed, WRITABLE } from "embedded:io/socket/tcp";
import { Sink } from "bench/sink";
import Instrumentation from "instrumentation";
import Debug from "debug";

const MIN_MS = Number(config.minMs ?? 250);
const REPEAT = Number(config.repeat ?? 3);
const REAL_PORT = Number(config.realPort ?? 0);
const GAP_MS = Number(config.gapMs ?? 100);
const ALLOC_ONLY = !!Number(config.allocOnly ?? 0);
const SLOT_HEAP = Instrumentation.map("XS Slot Heap Used");
const CHUNK_HEAP = Instrumentation.map("XS Chunk Heap Used");
/** An instrumented build (mcconfig -i) counts the XS heaps; a plain release build does not. */
const COUNTING = undefined !== Instrumentation.get(SLOT_HEAP);
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const SERVER_KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const SERVER_HEADERS = `Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${SERVER_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`;

function bytesOf(string) {
	return new Uint8Array(ArrayBuffer.fromString(string));
}

/**
 * Hands one prepared stream to one socket (ECMA-419 MemoryTCP or the older MemorySocket):
 * the handshake bytes, then passes over the frames in the stream's deliveries.
 */
export class Feed {
	constructor(stream, old) {
		this.stream = stream;
		this.old = old;
		this.socket = null;
		this.output = "";
		this.dropped = 0;
		this.hungUp = false;
	}
	attach(socket) {
		this.socket = socket;
	}
	written(socket, bytes) {
		if (socket !== this.socket)
			return;
		for (let i = 0; i < bytes.length; i++)
			this.output += String.fromCharCode(bytes[i]);
	}
	closed(socket) {
		if (socket === this.socket)
			this.hungUp = true;
	}
	/** ECMA-419: the socket is connected and takes bytes. */
	writable() {
		const socket = this.socket;
		socket.onWritable?.call(socket, WRITABLE);
	}
	/** One delivery of `bytes` (the handshake). */
	deliver(bytes) {
		const socket = this.socket;
		const available = socket.deliver(bytes, 0, bytes.length);
		if (this.old) {
			socket.callback(2, available);
			this.dropped += socket.drop();
		}
		else
			socket.onReadable.call(socket, available);
	}
	/** The client's request is complete: answer it with a 101. */
	get requested() {
		return this.output.includes("\r\n\r\n");
	}
	respond() {
		const key = /Sec-WebSocket-Key:\s*([^\r]+)\r\n/i.exec(this.output);
		if (!key)
			throw new Error("no Sec-WebSocket-Key in the request");
		const sha1 = new Digest("SHA1");
		sha1.write(key[1].trim() + GUID);
		const accept = new Uint8Array(sha1.close()).toBase64();
		this.output = "";
		this.deliver(bytesOf(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`));
	}
	/** A server's socket: the request (the SDK's server is attached after an HTTP server read the request line). */
	request() {
		if (!this.old)
			this.writable();
		this.deliver(bytesOf(this.old ? SERVER_HEADERS : `GET / HTTP/1.1\r\n${SERVER_HEADERS}`));
	}
	/** One pass over the stream. Throws if the reader left bytes unread. */
	pass() {
		const socket = this.socket;
		const bytes = this.stream.bytes;
		const plan = this.stream.plan;
		const length = plan.length;
		let offset = 0;
		if (this.old) {
			for (let i = 0; i < length; i++) {
				const count = plan[i];
				socket.callback(2, socket.deliver(bytes, offset, count));
				this.dropped += socket.drop();
				offset += count;
			}
			if (this.dropped)
				throw new Error(`the server left ${this.dropped} bytes unread`);
		}
		else {
			if (socket.available)
				throw new Error(`${socket.available} bytes unread before the pass`);
			for (let i = 0; i < length; i++) {
				const count = plan[i];
				socket.onReadable.call(socket, socket.deliver(bytes, offset, count));
				offset += count;
			}
			if (socket.available)
				throw new Error(`the reader left ${socket.available} bytes unread`);
		}
		if (this.hungUp)
			throw new Error("the socket was closed during the pass");
	}
	/** The peer goes away: the socket reports an error (ECMA-419) or a disconnect (socket). */
	hangUp() {
		const socket = this.socket;
		if (!socket || socket.closed)
			return;
		this.hungUp = true;
		if (this.old)
			socket.callback?.(-1);
		else
			socket.onError?.call(socket);
	}
}

function wait(ms) {
	return new Promise((resolve) => Timer.set(resolve, ms));
}

async function until(what, test, ms = 5000) {
	const end = Time.ticks + ms;
	while (!test()) {
		if (Time.ticks > end)
			throw new Error(`timed out waiting for ${what}`);
		await wait(1);
	}
}

async function measure(impl, side, size) {
	const stream = makeStream(size, side);
	const old = ("server" === side) && !!impl.oldSocketServer;
	const feed = new Feed(stream, old);
	const sink = new Sink(size);
	const tag = `${impl.name} ${side} ${size}`;
	let connection = null;
	setFeed(feed);
	try {
		connection = ("client" === side) ? impl.client(sink) : impl.server(feed, sink);
		await until("the socket", () => feed.socket);
		setFeed(null);
		if ("client" === side) {
			feed.writable();
			await until("the request", () => feed.requested);
			feed.respond();
		}
		else
			feed.request();
		await until("the connection to open", () => connection.opened);
		if (("server" === side) && !feed.output.startsWith("HTTP/1.1 101"))
			throw new Error(`the server answered ${JSON.stringify(feed.output.slice(0, 40))}`);
		await wait(1);

		sink.full = true;
		sink.startPass();
		feed.pass();
		sink.full = false;
		trace(`VERIFY ${tag} ${sink.messages} ${sink.bytes} ${sink.errors} ${sink.adler} ${feed.dropped}\n`);
		if (COUNTING) {
			// One more pass with the garbage collector off: what it leaves on the heaps was allocated by it.
			Debug.gc();
			const slots = Instrumentation.get(SLOT_HEAP);
			const chunks = Instrumentation.get(CHUNK_HEAP);
			Debug.gc(false);
			sink.reset();
			sink.startPass();
			feed.pass();
			const slotBytes = Instrumentation.get(SLOT_HEAP) - slots;
			const chunkBytes = Instrumentation.get(CHUNK_HEAP) - chunks;
			Debug.gc(true);
			trace(`ALLOC ${tag} ${sink.messages} ${sink.errors} ${slotBytes} ${chunkBytes}\n`);
		}
		if (ALLOC_ONLY)
			return;
		sink.startPass();
		feed.pass();		// warm-up

		for (let r = 0; r < REPEAT; r++) {
			trace(`MARK ${tag}\n`);
			await wait(GAP_MS);		// idle while the runner reads the CPU time
			sink.reset();
			let passes = 0;
			let elapsed;
			const start = Time.ticks;
			do {
				sink.startPass();
				feed.pass();
				passes++;
				elapsed = Time.ticks - start;
			} while (elapsed < MIN_MS);
			trace(`TIME ${tag} ${passes} ${sink.messages} ${sink.bytes} ${sink.errors} ${elapsed}\n`);
			await wait(GAP_MS);
		}
	}
	catch (error) {
		trace(`FAIL ${tag} ${error?.message ?? error}\n`);
	}
	finally {
		setFeed(null);
		feed.hangUp();
		try {
			connection?.close();
		}
		catch {
		}
	}
	await wait(10);
}

async function real(impl) {
	const sink = new Sink(SIZES[0]);
	let batch = 0;
	sink.marker = () => {
		trace(`REAL batch ${SIZES[batch]} ${sink.messages} ${sink.bytes} ${sink.errors}\n`);
		batch++;
		sink.reset();
		sink.size = SIZES[batch] ?? 0;
	};
	const connection = impl.real(REAL_PORT, sink);
	try {
		await until("the real connection to open", () => connection.opened, 15000);
		trace("REAL open\n");
	}
	catch (error) {
		trace(`FAIL ${impl.name} real 0 ${error?.message ?? error}\n`);
	}
}

export async function runBench(impl) {
	trace(`BENCH ${impl.name} minMs=${MIN_MS} repeat=${REPEAT}\n`);
	for (const size of SIZES) {
		await measure(impl, "client", size);
		await measure(impl, "server", size);
	}
	trace("MEMORY done\n");
	if (REAL_PORT && !ALLOC_ONLY)
		await real(impl);
}
