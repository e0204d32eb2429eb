"""Derived state built once per store state, on a background thread, for whoever asks.

The event index, the claim bitmaps and the editor's completion index each take seconds to
minutes to read from a large store. The first caller starts the one build; later callers find
it under way and either go on without it (a page answers another way meanwhile), wait a
bounded time, or wait for it (``ckb index``, tests). Where the value is held (``held``: a dict
in the store generation's memo, kb.derived.memo) decides when it is built again: a write gives
a new memo, so a value is never handed out for a store state it was not read from.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")
BUILDING = "building"  # in ``held``: the build under way (or, with retry=False, the one that failed)
FAILED = "failed"  # in ``held``, with retry=False: why the build failed (failure())
_lock = threading.Lock()  # who starts a build: one per ``held``, however many callers race


@dataclass(frozen=True)
class Job:
    """What is built: where its value is kept in ``held``, the thread's name, which errors mean
    the store went away meanwhile (logged, no value), and whether a failed build is tried again
    on the next call (else not before the next write)."""

    key: str
    thread: str
    errors: tuple[type[BaseException], ...]
    log: logging.Logger
    failure: str  # the log line, with %s for the error
    retry: bool = True


def ready(held: dict[str, Any], job: Job, build: Callable[[], T | None], wait: bool = False,
          within: float = 0.0) -> T | None:
    """``held[job.key]`` if built; else start ``build()`` on a thread (``wait``: run it here, or
    wait for the one under way) and return what is there after up to ``within`` seconds."""
    with _lock:
        if job.key in held:
            return held[job.key]
        under_way = held.get(BUILDING)
        if under_way is None:
            running = held[BUILDING] = threading.Event()
    if under_way is not None:
        if wait:
            under_way.wait()  # one build at a time: wait for it rather than start a second
        elif within > 0:
            under_way.wait(within)
        return held.get(job.key)
    if wait:
        return _build(held, job, build, running)
    threading.Thread(target=_build, args=(held, job, build, running), daemon=True, name=job.thread).start()
    if within > 0:
        running.wait(within)
    return held.get(job.key)


def failure(held: dict[str, Any]) -> BaseException | None:
    """Why the build kept in ``held`` failed, if it did and is not tried again (retry=False)."""
    return held.get(FAILED)


def _build(held: dict[str, Any], job: Job, build: Callable[[], T | None],
           running: threading.Event) -> T | None:
    found = None
    try:
        found = build()
    except job.errors as err:  # the store closed meanwhile: callers go on without the value
        job.log.info(job.failure, err)
        if not job.retry:  # kept until the next write (a new ``held``), for callers to say why;
            held[FAILED] = err.with_traceback(None)  # not the frames (and the rows they read)
    finally:
        with _lock:
            if found is not None:
                held[job.key] = found
            if job.retry or found is not None:
                held.pop(BUILDING, None)
        running.set()
    return found
