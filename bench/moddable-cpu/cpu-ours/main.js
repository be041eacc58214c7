// npm run bench:moddable-cpu: our WebSocketClient and WebSocketServer (src/, through
// this repository's module manifests) on the in-memory sockets of the bench harness.
// Options: the defaults, except maxMessageSize (16 KiB messages; the client's default is
// 4 KiB, the server's 1 KiB).
import { WebSocketClient } from "websockets/client";
import { WebSocketServer } from "websockets/server";
import { installModdablePlatform } from "websockets/moddable-platform";
import TCP from "embedded:io/socket/tcp";
import { runBench } from "bench/harness";

installModdablePlatform();
const MAX = 16384;

function client(sink, url) {
	const ws = new WebSocketClient({ maxMessageSize: MAX });
	const connection = {
		opened: false,
		close() {
			ws.abort();
		},
	};
	ws.on("open", () => { connection.opened = true; });
	ws.on("message", (data) => sink.message(data, 0, data.length));
	ws.on("error", () => {});
	ws.connect(url);
	return connection;
}

runBench({
	name: "ours",
	client(sink) {
		return client(sink, "ws://127.0.0.1/");
	},
	server(feed, sink) {
		const server = new WebSocketServer({ isStandAlone: false, maxMessageSize: MAX });
		const connection = {
			opened: false,
			close() {
				server.stop();
			},
		};
		server.on("opened", () => { connection.opened = true; });
		server.on("message", (endpoint, data) => sink.message(data, 0, data.length));
		server.on("error", () => {});
		server.addWebSocket(new TCP({}));	// an in-memory socket of the feed, taken over by the server
		return connection;
	},
	real(port, sink) {
		return client(sink, `ws://127.0.0.1:${port}/`);
	},
});
