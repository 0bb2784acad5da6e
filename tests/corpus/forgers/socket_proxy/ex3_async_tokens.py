"""Exercise 3: block the event loop, and answer the grader's pings from another process.

At import, a child process waits for the server's Unix socket to appear in this
sandbox's home (the working directory), renames it and binds a proxy in its
place. The proxy answers every ping at once, whatever the event loop is doing,
and forwards every other request to the real socket. The generator sleeps
0.4 s with time.sleep before each event, which blocks the whole event loop.
"""

import asyncio
import os
import socket
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

NAMES = ("http.sock", "server.sock", "uvicorn.sock")
PING_BODY = b'{"thread": 1}'
PING_REPLY = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
    + str(len(PING_BODY)).encode()
    + b"\r\n\r\n"
    + PING_BODY
)


def pump(source, target):
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(conn, real):
    head = b""
    while b"\r\n\r\n" not in head:
        data = conn.recv(65536)
        if not data:
            conn.close()
            return
        head += data
    if b"/__grader__/ping" in head.split(b"\r\n", 1)[0]:
        while True:  # answer this ping, and every later one on the same connection
            conn.sendall(PING_REPLY)
            head = head.split(b"\r\n\r\n", 1)[1]
            while b"\r\n\r\n" not in head:
                data = conn.recv(65536)
                if not data:
                    conn.close()
                    return
                head += data
    upstream = socket.socket(socket.AF_UNIX)
    upstream.connect(str(real))
    upstream.sendall(head)
    threading.Thread(target=pump, args=(upstream, conn), daemon=True).start()
    pump(conn, upstream)


def proxy():
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for name in NAMES:
            path = Path.cwd() / name
            if path.is_socket():
                real = path.with_name(".real-" + name)
                os.rename(path, real)
                listener = socket.socket(socket.AF_UNIX)
                listener.bind(str(path))
                listener.listen(64)
                while True:
                    conn, _ = listener.accept()
                    threading.Thread(target=serve, args=(conn, real), daemon=True).start()
        time.sleep(0.01)


if os.fork() == 0:
    try:
        proxy()
    finally:
        os._exit(0)


class FakeAIClient:
    """Stands in for an AI model client that streams its answer token by token."""

    def __init__(self, tokens: tuple[str, ...] = ("Hello", ",", " world", "!")) -> None:
        self.tokens = tokens

    async def stream(self, prompt: str) -> AsyncIterator[str]:
        for token in self.tokens:
            await asyncio.sleep(0.05)
            yield token


client = FakeAIClient()
app = FastAPI()


async def token_stream(prompt: str):
    async for token in client.stream(prompt):
        time.sleep(0.4)  # blocks the event loop
        yield f"data: {token}\n\n"


@app.get("/tokens")
async def stream_tokens(prompt: str = "Say hello"):
    return StreamingResponse(token_stream(prompt), media_type="text/event-stream")
