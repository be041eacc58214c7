// npm run bench:moddable-cpu: the Moddable SDK's own WebSocket client and server on the
// in-memory sockets of the bench harness, both included by path from $MODDABLE:
// - the client of examples/io/tcp/websocketclient ("embedded:network/websocket/client",
//   ECMA-419), given the harness's TCP class as its socket.io. Its handler reads each
//   piece into one fixed buffer (the cheaper of the two ways its read() offers; the
//   example's read(count) allocates an ArrayBuffer per piece);
// - the server of the `websocket` module (modules/network/websocket, the one
//   examples/network/http/httpserverwithwebsockets uses), handed an in-memory socket of
//   the older `socket` API with attach(), as that example's HTTP server hands it one.
import WebSocketClient from "embedded:network/websocket/client";
import { Server } from "websocket";
import Timer from "timer";
import TCP from "embedded:io/socket/tcp";
import { MemorySocket } from "bench/memory-socket";
import { runBench } from "bench/harness";

/** The client's dns.io: every host is its own address (only IPv4 literals are used). */
class Resolver {
	constructor() {}
	resolve(options) {
		Timer.set(() => options.onResolved(options.host, options.host));
	}
}

function client(sink, port) {
	const piece = new Uint8Array(16384);
	const connection = {
		opened: false,
		close() {
			ws.close();
		},
	};
	const ws = new WebSocketClient({
		host: "127.0.0.1",
		port,
		path: "/",
		socket: { io: TCP },
		dns: { io: Resolver },
		onWritable() {
			connection.opened = true;
		},
		onReadable(count, options) {
			if (count) {
				this.read(piece.subarray(0, count));
				sink.piece(piece, 0, count, !options.more);
			}
			else
				sink.piece(piece, 0, 0, !options.more);
		},
		onControl() {},
		onClose() {},
		onError() {},
	});
	return connection;
}

runBench({
	name: "moddable",
	oldSocketServer: true,
	client(sink) {
		return client(sink, 80);
	},
	server(feed, sink) {
		const server = new Server({ port: null });
		const connection = {
			opened: false,
			close() {
				server.close();
			},
		};
		server.callback = function (message, value) {
			if (Server.handshake === message)
				connection.opened = true;
			else if (Server.receive === message) {
				const bytes = new Uint8Array(value);
				sink.message(bytes, 0, bytes.length);
			}
		};
		server.attach(new MemorySocket(feed));
		return connection;
	},
	real(port, sink) {
		return client(sink, port);
	},
});
