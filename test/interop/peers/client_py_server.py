#!/usr/bin/python3
# A Python websockets (10.x, asyncio) server for test/interop/client-python.test.ts.
# Run with /usr/bin/python3 (Debian's python3-websockets). Listens on 127.0.0.1 on two
# ephemeral ports (three with --tls) and prints {"event": "ports", ...} once ready; then
# one JSON line per notable event (each connection's opening and its TLS version and
# cipher, what the server received, how connections closed). Exits when stdin closes
# (the test process went away) or on SIGTERM.
#
#   client_py_server.py [--tls CHAIN.pem KEY.pem]
#
# --tls adds a wss:// listener with the same routes as the main port (reported as
# "tls" in the ports event), serving the chain (leaf first, then its CA) and key given.
# It speaks only what the Moddable SDK's TLS speaks (test/interop/peers/tls-certs.ts,
# SDK_COMPATIBLE): TLS 1.2, ECDHE-RSA-AES128-GCM-SHA256 on P-256, so a client that
# works against it would also talk to a device.
#
# Routes (main port, no automatic pings; a query string is ignored but logged):
#   /echo                  echo every message with its type
#   /fragments             send fragmented messages (async and sync iterators), then echo
#   /ping                  ping the client (payload b"py-ping", then a random one); after
#                          each matching pong, send the text "pong <hex payload>"
#   /close/CODE[/REASON]   close at once with CODE and the (percent-encoded) REASON
#   /close-empty           close with no status code
#   /big/N                 send one binary message of N bytes
# The keepalive port runs /echo with ping_interval=0.2 s, ping_timeout=0.5 s.

import asyncio
import json
import os
import signal
import ssl
import sys
import threading
import urllib.parse

import websockets

MAX_SIZE = 8 * 1024 * 1024


def emit(**event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def pattern(n, seed=7):
    return bytes(((i * 31 + seed) & 0xFF) for i in range(n))


async def log_close(ws, path):
    try:
        await ws.wait_closed()
    finally:
        emit(event="closed", path=path, code=ws.close_code, reason=ws.close_reason)


async def echo(ws, path):
    async for message in ws:
        is_text = isinstance(message, str)
        size = len(message.encode("utf-8")) if is_text else len(message)
        emit(event="message", path=path, text=is_text, size=size)
        await ws.send(message)


async def fragments(ws, path):
    async def text_pieces():
        for piece in ["Hel", "lo ", "wörld ", "€", "𝄞", ""]:
            yield piece
            await asyncio.sleep(0)  # let frames go out one by one

    big = pattern(1024 * 1024, 3)

    async def binary_pieces():
        for start in range(0, len(big), 100_000):
            yield big[start:start + 100_000]

    await ws.send(text_pieces())
    await ws.send(binary_pieces())
    await ws.send([b"", b"a", b"", b"bc"])  # a sync iterable, with empty fragments
    await ws.send(["only one fragment"])
    emit(event="fragments-sent", path=path)
    await echo(ws, path)


async def ping(ws, path):
    for payload in [b"py-ping", None]:
        waiter = await ws.ping(payload)
        await asyncio.wait_for(waiter, 5)
        # websockets resolves the waiter only for a pong with the same payload; for
        # None it chose 4 random bytes, which it does not expose: report what we sent.
        await ws.send("pong " + (payload.hex() if payload is not None else "random"))
    await echo(ws, path)


def tls_context(chain, key):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("ECDHE-RSA-AES128-GCM-SHA256")
    context.set_ecdh_curve("prime256v1")
    context.load_cert_chain(chain, key)
    return context


async def handler(ws):
    path = ws.path  # with the query: tests make each connection's path unique with ?id=N
    route = path.split("?")[0]
    # What the connection runs over, so a test can tell a wss:// connection really was TLS.
    tls = ws.transport.get_extra_info("ssl_object")
    emit(event="open", path=path, tls=[tls.version(), tls.cipher()[0]] if tls is not None else None)
    asyncio.ensure_future(log_close(ws, path))
    try:
        if route == "/echo":
            await echo(ws, path)
        elif route == "/fragments":
            await fragments(ws, path)
        elif route == "/ping":
            await ping(ws, path)
        elif route.startswith("/close/"):
            parts = route.split("/")
            code = int(parts[2])
            reason = urllib.parse.unquote(parts[3]) if len(parts) > 3 else ""
            await ws.close(code, reason)
        elif route == "/close-empty":
            # websockets always sends a code from close(); write an empty close frame by hand.
            await ws.write_close_frame(websockets.frames.Close(1005, ""), b"")
            await ws.wait_closed()
        elif route.startswith("/big/"):
            await ws.send(pattern(int(route[5:])))
            await echo(ws, path)
        else:
            await ws.close(4404, "no such route")
    except websockets.ConnectionClosed:
        pass


async def main():
    stop = asyncio.get_running_loop().create_future()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, lambda: stop.done() or stop.set_result(None))

    def watch_stdin():
        sys.stdin.read()
        loop.call_soon_threadsafe(lambda: stop.done() or stop.set_result(None))

    threading.Thread(target=watch_stdin, daemon=True).start()
    main_server = await websockets.serve(
        handler, "127.0.0.1", 0, max_size=MAX_SIZE, ping_interval=None, close_timeout=2
    )
    keepalive = await websockets.serve(
        handler, "127.0.0.1", 0, max_size=MAX_SIZE, ping_interval=0.2, ping_timeout=0.5, close_timeout=2
    )
    servers = [main_server, keepalive]
    ports = {"main": main_server.sockets[0].getsockname()[1], "keepalive": keepalive.sockets[0].getsockname()[1]}
    if "--tls" in sys.argv:
        at = sys.argv.index("--tls")
        chain, key = sys.argv[at + 1], sys.argv[at + 2]
        secure = await websockets.serve(
            handler, "127.0.0.1", 0, ssl=tls_context(chain, key), max_size=MAX_SIZE, ping_interval=None, close_timeout=2
        )
        servers.append(secure)
        ports["tls"] = secure.sockets[0].getsockname()[1]
    emit(event="ports", **ports)
    await stop
    for server in servers:
        server.close()
    await asyncio.wait_for(asyncio.gather(*(server.wait_closed() for server in servers)), 2)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    finally:
        sys.stdout.flush()
        os._exit(0)
