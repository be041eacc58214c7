// FrameParser example (plain JavaScript): the frame parser and encoder alone, on bytes,
// with no socket. Parses the example frames of RFC 6455 section 5.7 fed in pieces of
// any size, round-trips messages through the encoder, and shows a violation's close code.
import { FrameParser } from "websockets/parser";
import { FrameEncoder } from "websockets/encoder";
import { decodeUtf8 } from "websockets/utf8";

const events = [];
const handler = {
	onMessage(type, data, start, end) {
		// data[start, end) is the parser's own buffer, valid during this call only.
		events.push(type === "text" ? `text "${decodeUtf8(data, start, end)}"` : `binary ${end - start} bytes`);
	},
	onChunk() {},	// mode: "stream" only
	onPing(data, start, end) { events.push(`ping "${decodeUtf8(data, start, end)}"`); },
	onPong(data, start, end) { events.push(`pong "${decodeUtf8(data, start, end)}"`); },
	onClose(code, data, start, end) { events.push(`close ${code} "${decodeUtf8(data, start, end)}"`); },
	onError(code, reason) { events.push(`error ${code} ${reason}`); },
};

function parse(role, bytes, piece) {
	events.length = 0;
	const parser = new FrameParser({ role, maxMessageSize: 1024 }, handler);
	for (let i = 0; i < bytes.length; i += piece)
		parser.push(bytes, i, Math.min(i + piece, bytes.length));
	return events.join(", ");
}

let failures = 0;
function expect(what, actual, expected) {
	const ok = actual === expected;
	if (!ok) failures++;
	trace(`frame-parser: ${ok ? "ok" : "FAILED"} ${what}: ${actual}${ok ? "" : ` (expected ${expected})`}\n`);
}

// RFC 6455 5.7: frames a server sends (unmasked), parsed on the client side, one byte at a time.
const fromServer = Uint8Array.of(
	0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f,	// text "Hello"
	0x01, 0x03, 0x48, 0x65, 0x6c,	// "Hel", first fragment...
	0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f,	// ...a ping between the fragments...
	0x80, 0x02, 0x6c, 0x6f,	// ..."lo", last fragment
	0x82, 0x7e, 0x01, 0x00, ...new Uint8Array(256),	// 256-byte binary, 16-bit length
);
expect("RFC 6455 5.7 server frames", parse("client", fromServer, 1),
	`text "Hello", ping "Hello", text "Hello", binary 256 bytes`);

// RFC 6455 5.7: masked frames a client sends, parsed on the server side.
const fromClient = Uint8Array.of(
	0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,	// masked text "Hello"
	0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,	// masked pong "Hello"
);
expect("RFC 6455 5.7 client frames", parse("server", fromClient, 4), `text "Hello", pong "Hello"`);

// The encoder: client frames (masked with a fresh key each), fragmented every 4 bytes.
const chunks = [];
const encoder = new FrameEncoder({ role: "client", maxFragmentSize: 4 }, (data, start, end) => {
	chunks.push(data.slice(start, end));	// the range is valid during this call only
});
encoder.text("héllo, wörld");
encoder.binary(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9));
encoder.close(1000, "bye");
const encoded = new Uint8Array(chunks.reduce((n, chunk) => n + chunk.length, 0));
chunks.reduce((offset, chunk) => (encoded.set(chunk, offset), offset + chunk.length), 0);
expect(`encoder round trip (${encoded.length} bytes)`, parse("server", encoded, 7),
	`text "héllo, wörld", binary 9 bytes, close 1000 "bye"`);

// Violations end parsing with the close code to send.
expect("invalid UTF-8", parse("client", Uint8Array.of(0x81, 0x02, 0xc3, 0x28), 1), "error 1007 invalid UTF-8 in text message");
expect("unmasked frame to a server", parse("server", Uint8Array.of(0x81, 0x00), 1), "error 1002 unmasked frame from a client");
expect("frame over maxMessageSize", parse("client", Uint8Array.of(0x82, 0x7e, 0x04, 0x01), 1), "error 1009 frame too big");

trace(failures ? `frame-parser: FAIL (${failures})\n` : "frame-parser: PASS\n");
