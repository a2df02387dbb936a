"""The named baseline of the server benchmarks: the original simtom's serving design.

The original streams from an async generator that builds one record (``generate_record``),
serialises it with ``json.dumps`` into ``data: ...\\n\\n`` and awaits a sleep between records.
This app does the same with the per-record builder of ``bench/baseline.py``, its sleeps removed
(as in the reference figure of ~2,400 records/s), under the same uvicorn as simtom, so the
measured ratio is one of design, not of web framework. Run as
``python bench/_original_server.py PORT``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.baseline import BaselineBNPL


async def stream(request: Request) -> StreamingResponse:
    config = await request.json()
    fmt = request.query_params.get("format", "sse")
    builder = BaselineBNPL(config.get("seed") or 0)
    total = config.get("total_records")

    async def records() -> AsyncIterator[str]:
        k = 0
        while total is None or k < total:
            record = builder.next_record()
            line = json.dumps(record)
            yield f"data: {line}\n\n" if fmt == "sse" else line + "\n"
            k += 1
            await asyncio.sleep(0)  # the original awaits its pacing sleep here

    media = "text/event-stream" if fmt == "sse" else "application/x-ndjson"
    return StreamingResponse(records(), media_type=media)


app = Starlette(routes=[Route("/stream/bnpl", stream, methods=["POST"])])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
