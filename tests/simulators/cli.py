"""Running a simulator's command line inside a test."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest


@asynccontextmanager
async def running_cli[SimT](
    kind: type[SimT],
    run: Callable[[argparse.Namespace, asyncio.Event], Awaitable[None]],
    args: argparse.Namespace,
) -> AsyncIterator[SimT]:
    """Run `run(args, stop)` until it listens; yield the simulator it started.

    On exit the command line is told to stop and awaited.
    """
    stop = asyncio.Event()
    started: list[SimT] = []
    listening = asyncio.Event()
    original: Any = kind.start

    async def remember_start(self: SimT, *a: Any, **kw: Any) -> None:
        await original(self, *a, **kw)
        started.append(self)
        listening.set()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kind, "start", remember_start)
        runner = asyncio.create_task(run(args, stop))
        await asyncio.wait_for(listening.wait(), 10)
    try:
        yield started[0]
    finally:
        stop.set()
        await runner
