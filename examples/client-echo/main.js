// WebSocketClient example (plain JavaScript): connect to an echo server, send a text
// and a binary message, check that both come back unchanged, close.
// Build: mcconfig -d -p lin url=ws://127.0.0.1:8080/   (any ws:// echo server)
import config from "mc/config";
import { WebSocketClient } from "websockets/client";
import { installModdablePlatform } from "websockets/moddable-platform";

installModdablePlatform(); // clock and DNS for the WebSocket modules: once per app

const text = "hello from Moddable";
const binary = Uint8Array.of(0, 1, 2, 253, 254, 255);
let received = 0;
let failure = "";

const ws = new WebSocketClient({ keepAliveInterval: 0, connectTimeout: 5000 });
ws.on("open", () => {
	trace(`client-echo: open ${config.url}\n`);
	ws.sendText(text);
	ws.sendBinary(binary);
});
ws.on("message", (data) => {
	// Text arrives as a string; binary as a view into the receive buffer, valid during this call.
	if (typeof data === "string") {
		if (data !== text) failure ||= `text echo differs: ${data}`;
	}
	else if (data.length !== binary.length || data.some((byte, i) => byte !== binary[i]))
		failure ||= `binary echo differs: ${Array.from(data)}`;
	if (++received === 2)
		ws.close(1000, "done");
});
ws.on("error", (error) => {
	failure ||= error.message;
});
ws.on("close", (code, reason, wasClean) => {
	trace(`client-echo: close ${code} ${reason} clean=${wasClean}\n`);
	if (!failure && (received !== 2 || code !== 1000 || !wasClean))
		failure = `${received} echoes, close ${code}`;
	trace(failure ? `client-echo: FAIL ${failure}\n` : "client-echo: PASS\n");
});
ws.connect(config.url);
