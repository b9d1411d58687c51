"""Run the FastDFS test fake (tests/fakes/fastdfs.py) as a process for bench/file_bench.py.

Prints the tracker address as one JSON line on stdout, then serves until killed. A separate
process so its socket and disk work do not share the benchmarked server's CPU or RSS.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes.fastdfs import FakeFastDFS


async def main(data_dir: str) -> None:
    async with FakeFastDFS(data_dir, tracker_count=1) as fake:
        host, port = fake.tracker_addresses[0]
        print(json.dumps({"tracker": f"{host}:{port}"}), flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
