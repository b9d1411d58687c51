"""The benchmark's baseline: a bare ASGI callable (no framework, no middleware) that answers
every HTTP request with Tessera's `/healthz` body, `{"status":"ok"}` as application/json.

`python bench/bare_app.py --port P` serves it with uvicorn using exactly the options that
`tessera serve` passes to `uvicorn.run` (uvloop, httptools, one worker, no reload, no server
header, no uvicorn access log, no logging config). Granian serves it as `bare_app:app`
(`bench/` on PYTHONPATH). It also answers ASGI lifespan so both servers start it cleanly.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

BODY = b'{"status":"ok"}'
_START: Message = {
    "type": "http.response.start",
    "status": 200,
    "headers": [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(BODY)).encode()),
    ],
}
_BODY: Message = {"type": "http.response.body", "body": BODY}


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        # Fresh dicts: servers may keep or mutate the messages they are handed.
        await send(dict(_START))
        await send(dict(_BODY))
        return
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    # Keep in step with `tessera.cli.serve`.
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        workers=1,
        loop="uvloop" if sys.platform != "win32" else "asyncio",
        http="httptools",
        proxy_headers=False,
        server_header=False,
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=20,
    )


if __name__ == "__main__":
    main()
