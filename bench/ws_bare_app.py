"""The WebSocket benchmark's ceiling: a bare ASGI app on uvicorn + websockets (sans-I/O), with
the same uvicorn options `tessera serve` uses, doing the least a broadcast server can do.

`/ws`: accept, wait for any first text frame (the "auth"), answer `{"type":"ack"}`, then keep
the socket in one set. `POST /broadcast` (body: the text to send) sends it to every socket,
one `send` each, and answers how many. No framework, no auth check, no queue, no history.

Run: `python bench/ws_bare_app.py --port P`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

SOCKETS: set[Send] = set()
ACK = '{"type":"ack","of":"auth"}'


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        first = await receive()
        if first["type"] != "websocket.receive":
            return
        await send({"type": "websocket.send", "text": ACK})
        SOCKETS.add(send)
        try:
            while (await receive())["type"] != "websocket.disconnect":
                pass
        finally:
            SOCKETS.discard(send)
        return
    if scope["type"] == "http":
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        text = body.decode()
        sent = 0
        for target in list(SOCKETS):
            try:
                await target({"type": "websocket.send", "text": text})
                sent += 1
            except Exception:
                SOCKETS.discard(target)
        answer = str(sent).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", str(len(answer)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": answer})
        return
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


def main() -> None:
    import uvicorn

    from tessera.lib.config import Settings
    from tessera.lib.realtime import uvicorn_options

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        server_header=False,
        access_log=False,
        log_config=None,
        **uvicorn_options(Settings()),  # type: ignore[arg-type]
    )


if __name__ == "__main__":
    main()
