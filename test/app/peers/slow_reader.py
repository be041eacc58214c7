#!/usr/bin/python3
"""A WebSocket client that stops reading: the LED app's congested phone.

Usage: /usr/bin/python3 slow_reader.py PORT PATH

Connects with a 2 KiB receive buffer (so the server's send budget fills after a few
hundred frames instead of megabytes of kernel buffers), completes the handshake and
prints "open". It then reads nothing until a line arrives on stdin; after that it reads
every frame and prints "color R G B" for each 3-byte binary message, until the server
closes or the process is stopped.
"""
import base64
import os
import socket
import sys


def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            print("closed before the handshake", flush=True)
            return
        data += chunk
    head, data = data.split(b"\r\n\r\n", 1)
    if not head.startswith(b"HTTP/1.1 101"):
        print("refused " + head.split(b"\r\n")[0].decode("latin1"), flush=True)
        return
    print("open", flush=True)
    sys.stdin.readline()  # congested: read nothing until told
    while True:
        while len(data) >= 2:
            length = data[1] & 0x7F
            start = 2 + (2 if length == 126 else 8 if length == 127 else 0)
            if length >= 126:
                if len(data) < start:
                    break
                length = int.from_bytes(data[2:start], "big")
            if len(data) < start + length:
                break
            opcode, payload = data[0] & 0x0F, data[start : start + length]
            data = data[start + length :]
            if opcode == 2 and length == 3:
                print("color %d %d %d" % tuple(payload), flush=True)
            elif opcode == 8:
                print("close", flush=True)
                return
        chunk = sock.recv(65536)
        if not chunk:
            print("closed", flush=True)
            return
        data += chunk


main()
