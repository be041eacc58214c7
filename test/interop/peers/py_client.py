#!/usr/bin/python3
"""A Python websockets (10.x, asyncio, legacy client) peer for test/interop/server-python.test.ts.

Usage: /usr/bin/python3 py_client.py URL SCENARIO [ARG...]  (utf8 reads a JSON list of strings on stdin)

Prints exactly one JSON object on stdout (the scenario's observations) and exits 0;
on an unexpected exception it prints {"error": "..."} and exits 1. Payloads follow
the generators of test/interop/peers/server-harness.ts (pattern, asciiText) so the
test can check digests of what came back.
"""

import asyncio
import hashlib
import json
import os
import sys

import websockets
from websockets.exceptions import ConnectionClosed
from websockets.legacy.client import WebSocketClientProtocol

MIB = 1 << 20
# Longer waits against the Moddable simulator (npm run test:moddable sets it; 1 otherwise).
WAIT_SCALE = float(os.environ.get("PEER_WAIT_SCALE", "1"))
SIZES = [0, 125, 126, 65535, 65536, MIB]


def pattern(n, seed=0):
    return bytes(((i * 31 + seed + (i >> 8)) & 0xFF) for i in range(n))


def ascii_text(n, seed=0):
    return bytes((32 + ((i * 7 + seed + (i >> 7)) % 95)) for i in range(n)).decode("ascii")


def sha(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


class Recording(WebSocketClientProtocol):
    """Records every control frame received (opcode name, payload hex)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.controls = []

    async def read_frame(self, max_size):
        frame = await super().read_frame(max_size)
        if frame.opcode in (websockets.frames.Opcode.PING, websockets.frames.Opcode.PONG, websockets.frames.Opcode.CLOSE):
            self.controls.append([frame.opcode.name, frame.data.hex()])
        return frame


def connect(url, **kwargs):
    return websockets.connect(
        url,
        create_protocol=Recording,
        max_size=4 * MIB,
        ping_interval=None,  # no client keep-alive: only what the scenario sends
        open_timeout=10 * WAIT_SCALE,
        close_timeout=5 * WAIT_SCALE,
        **kwargs,
    )


async def recv(ws):
    return await asyncio.wait_for(ws.recv(), 10 * WAIT_SCALE)


async def echo(url, args):
    out = {"results": []}
    async with connect(url) as ws:
        out["extensions"] = [str(e) for e in ws.extensions]
        for size in SIZES:
            text = ascii_text(size, size)
            await ws.send(text)
            got = await recv(ws)
            out["results"].append({"type": "text", "size": size, "isText": isinstance(got, str),
                                   "length": len(got), "equal": got == text, "sha256": sha(got)})
            data = pattern(size, size)
            await ws.send(data)
            got = await recv(ws)
            out["results"].append({"type": "binary", "size": size, "isText": isinstance(got, str),
                                   "length": len(got), "equal": got == data, "sha256": sha(got)})
        await ws.close(1000)
    return out


async def utf8(url, args):
    texts = json.loads(sys.stdin.read())  # a JSON list of strings on stdin
    out = {"echoes": []}
    async with connect(url) as ws:
        for text in texts:
            await ws.send(text)
            got = await recv(ws)
            out["echoes"].append(got)
    return out


async def fragments(url, args):
    text_pieces = ["abc", "é", "€", "😀", "", "𝄞 end"]
    binary_pieces = [pattern(1, 1), pattern(65536, 2), pattern(4463, 3)]
    out = {}
    async with connect(url) as ws:
        async def text_fragments():
            for i, piece in enumerate(text_pieces):
                if i == 2:
                    out["pingDuring"] = True
                    waiter = await ws.ping(b"between fragments")
                    out["_waiter"] = waiter
                yield piece
                await asyncio.sleep(0.01)  # separate TCP writes

        await ws.send(text_fragments())
        got = await recv(ws)
        out["text"] = got
        out["textEqual"] = got == "".join(text_pieces)
        await asyncio.wait_for(out.pop("_waiter"), 5 * WAIT_SCALE)
        out["pongForPingDuringFragments"] = True

        async def binary_fragments():
            for piece in binary_pieces:
                yield piece

        await ws.send(binary_fragments())
        got = await recv(ws)
        whole = b"".join(binary_pieces)
        out["binaryLength"] = len(got)
        out["binaryEqual"] = got == whole
        out["binarySha256"] = sha(got)

        await ws.send(["sync ", "iterable ", "fragments"])  # a plain iterable fragments too
        out["iterable"] = await recv(ws)
        await ws.send("sentinel")
        out["next"] = await recv(ws)  # nothing extra arrived in between
        out["controls"] = ws.controls
        await ws.close(1000)
    return out


async def ping(url, args):
    payloads = [b"", bytes([0, 1, 0xFE, 0xFF]), pattern(125, 7)]
    out = {"sent": [p.hex() for p in payloads]}
    async with connect(url) as ws:
        for payload in payloads:
            waiter = await ws.ping(payload)
            await asyncio.wait_for(waiter, 5 * WAIT_SCALE)
        out["controls"] = list(ws.controls)
        await ws.close(1000)
    return out


async def keepalive(url, args):
    seconds = float(args[0])
    async with connect(url) as ws:
        await asyncio.sleep(seconds)
        await ws.send("still here")
        got = await recv(ws)
        out = {"controls": list(ws.controls), "echo": got, "open": ws.open}
        await ws.close(1000)
    return out


async def close(url, args):
    code = int(args[0])
    reason = args[1] if len(args) > 1 else ""
    async with connect(url) as ws:
        await ws.close(code, reason)
        return {"code": ws.close_code, "reason": ws.close_reason, "controls": ws.controls}


async def server_close(url, args):
    async with connect(url) as ws:
        await ws.send("close-me")
        try:
            await asyncio.wait_for(ws.recv(), 10 * WAIT_SCALE)
            return {"error": "received a message instead of a close"}
        except ConnectionClosed as closed:
            await ws.wait_closed()
            return {"code": ws.close_code, "reason": ws.close_reason, "exception": str(closed),
                    "rcvdThenSent": closed.rcvd_then_sent, "controls": ws.controls}


async def too_big(url, args):
    size = int(args[0])
    async with connect(url) as ws:
        try:
            await ws.send(pattern(size, 1))
            await asyncio.wait_for(ws.recv(), 10 * WAIT_SCALE)
            return {"error": "no close"}
        except ConnectionClosed:
            await ws.wait_closed()
            return {"code": ws.close_code, "reason": ws.close_reason}


SCENARIOS = {
    "echo": echo,
    "utf8": utf8,
    "fragments": fragments,
    "ping": ping,
    "keepalive": keepalive,
    "close": close,
    "server-close": server_close,
    "too-big": too_big,
}


def main():
    url, scenario, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    try:
        result = asyncio.run(SCENARIOS[scenario](url, args))
    except Exception as error:  # report, do not hang
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
        sys.stdout.flush()
        sys.exit(1)
    print(json.dumps(result))  # ASCII-only JSON: independent of the locale
    sys.stdout.flush()


if __name__ == "__main__":
    main()
