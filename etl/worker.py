"""Reading and checking an uploaded file in a child process with resource limits.

The reader's own limits (etl/readers.py ReadLimits) stop every hostile file found so far within
seconds. This is the backstop for the ones not found yet: the whole parse (reading the file,
shaping it, resolving and checking every row) runs in a forked child whose own memory may grow
by at most ``memory_mb`` (its private pages, watched by the parent; RLIMIT_AS over what it starts
with as a backstop) and which is killed after ``seconds``. A file beyond either is refused (LimitError ``memory`` or ``seconds``) with a
message that says how to split it; the server, and every other session, keep their memory and
their time. The child is forked, so it starts with the config and registries already in memory
and costs milliseconds, not an import.

The limits are ``IPMON_PARSE_MEMORY_MB`` (default 768) and ``IPMON_PARSE_SECONDS`` (default 60),
read by monitor/settings.py.

The answer comes back through an anonymous in-memory file (memfd) the parent made before the
fork, not through the pipe: a staged file of half a million rows is some 70 MB of columns, which
a pipe passes 64 KB at a time and both sides copy. The child writes it once, pickled with its
column buffers out of band (protocol 5); the parent maps the file and the columns it unpickles
are those pages, not copies. The file counts towards the child's memory budget.
"""

from __future__ import annotations

import mmap
import multiprocessing
import os
import pickle
import resource
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from monitor import settings
from monitor.errors import LimitError, LoadError, MonitorError

DEFAULT_MEMORY_MB = 768
DEFAULT_SECONDS = 60.0
SPLIT = "请按月份或地区拆分成几个文件，分别导入"


@dataclass(frozen=True)
class WorkerLimits:
    memory_mb: float = DEFAULT_MEMORY_MB
    seconds: float = DEFAULT_SECONDS


def worker_limits() -> WorkerLimits:
    """The limits from IPMON_PARSE_MEMORY_MB and IPMON_PARSE_SECONDS (positive numbers) or the defaults."""
    return WorkerLimits(memory_mb=settings.parse_memory_mb(), seconds=settings.parse_seconds())


@dataclass(frozen=True)
class WorkerStats:
    """What the parse cost: wall time, and the child's resident memory at the start and at its peak."""

    seconds: float
    start_kb: int
    peak_kb: int


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _picklable(error: MonitorError) -> MonitorError:
    """The error as it will arrive in the parent: itself, or its message as a LoadError when its
    class cannot be rebuilt from a pickle (a constructor with other arguments than the message)."""
    try:
        again = pickle.loads(pickle.dumps(error))
        if str(again) == str(error):
            return error
    except Exception:  # noqa: S110  (any failure to rebuild: fall back to the message)
        pass
    return LoadError(str(error))


def _child(conn, answer_fd: int, fn: Callable, args: tuple, kwargs: dict, limits: WorkerLimits) -> None:
    start_kb = _status_kb("VmRSS")
    # Arrow's columns from the C library's allocator: its default pool (mimalloc) starts empty in the
    # child and took ~0.2 s more of a half-million-row parse (bench, `python -m bench --steps load`)
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        # the budget is over what the child has at the fork (the server's whole address space)
        budget = _status_kb("VmSize") * 1024 + int(limits.memory_mb * 1024 * 1024)
        resource.setrlimit(resource.RLIMIT_AS, (budget, resource.getrlimit(resource.RLIMIT_AS)[1]))
        # the answer's file may not outgrow the budget either (the watch counts it; this is the backstop)
        answer_limit = int(limits.memory_mb * 1024 * 1024)
        resource.setrlimit(resource.RLIMIT_FSIZE, (answer_limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
        _write_answer(answer_fd, fn(*args, **kwargs))
        outcome = ("ok", None)
    except MemoryError:
        outcome = ("memory", None)
    except MonitorError as e:
        outcome = ("error", _picklable(e))
    except Exception as e:  # reported to the parent as it is, for the server log
        outcome = ("crash", f"{type(e).__name__}: {e}"[:2000])
    try:
        conn.send((*outcome, start_kb, _status_kb("VmHWM")))
    except MemoryError:
        conn.send(("memory", None, start_kb, _status_kb("VmHWM")))
    finally:
        conn.close()


_ALIGN = 64  # each buffer of the answer starts at a multiple of this (Arrow's and numpy's alignment)


def _aligned(offset: int) -> int:
    return -(-offset // _ALIGN) * _ALIGN


def _write_answer(fd: int, answer: Any) -> None:
    """``answer`` into the file ``fd``: the number of parts and their sizes, then the pickle (protocol
    5) and each buffer it left out of band, each at an aligned offset."""
    buffers: list[pickle.PickleBuffer] = []
    head = pickle.dumps(answer, protocol=5, buffer_callback=buffers.append)
    parts = [memoryview(head), *(b.raw() for b in buffers)]
    index = struct.pack(f"<{len(parts) + 1}Q", len(parts), *(p.nbytes for p in parts))
    offset = _aligned(len(index))
    os.pwrite(fd, index, 0)
    for part in parts:
        written = 0
        while written < part.nbytes:
            written += os.pwrite(fd, part[written:], offset + written)
        offset = _aligned(offset + part.nbytes)


def _read_answer(fd: int) -> Any:
    """What ``_write_answer`` wrote, unpickled from a private map of the file: the buffers are the
    mapped pages (written to, they become the caller's own copy), nothing is copied."""
    mapped = mmap.mmap(fd, os.fstat(fd).st_size, flags=mmap.MAP_PRIVATE)
    view = memoryview(mapped)
    (count,) = struct.unpack_from("<Q", view, 0)
    sizes = struct.unpack_from(f"<{count}Q", view, 8)
    offset, parts = _aligned(8 * (count + 1)), []
    for size in sizes:
        parts.append(view[offset:offset + size])
        offset = _aligned(offset + size)
    # the arrays unpickled hold the map through their buffers; it is unmapped with the last of them
    return pickle.loads(parts[0], buffers=parts[1:])


def _private_kb(pid: int) -> int | None:
    """The memory a process holds of its own (private pages, resident): after a fork, what the
    child has written or allocated, however the parent's free heap is reused."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:  # gone already
        return None
    return sum(int(line.split()[1]) for line in text.splitlines() if line.startswith(("Private_Clean:", "Private_Dirty:")))


# seconds between two looks at the child's memory: the first soon, then less often. Each look walks
# the child's page tables (smaps_rollup) while its allocator waits to map memory: every 0.05 s it
# cost a 463,576-value parse ~0.05-0.1 s. Looks are the bound only for the parent's free heap the
# child reuses, no larger than that heap whatever the interval: RLIMIT_AS bounds new mappings.
_WATCH_FIRST, _WATCH_LONGEST = 0.05, 0.25


def _watch(child, receiver, answer_fd: int, deadline: float, budget_kb: float) -> bool | None:
    """Wait for the child's answer, watching its private memory and the answer it is writing:
    False when it answered in time, True when the two went over ``budget_kb`` (it is killed),
    None when ``deadline`` passed.

    RLIMIT_AS alone does not bound a child forked from a large server: its address space starts
    with the server's heap, whose free parts it may fill without asking the kernel for more."""
    interval = _WATCH_FIRST
    while True:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return None
        if receiver.poll(min(interval, remaining)):
            return False
        interval = min(interval * 2, _WATCH_LONGEST)
        private = _private_kb(child.pid)
        if private is not None and private + os.fstat(answer_fd).st_size / 1024 > budget_kb:
            child.kill()
            return True


def run_bounded(fn: Callable[..., Any], /, *args, file_name: str, limits: WorkerLimits | None = None,
                **kwargs) -> tuple[Any, WorkerStats]:
    """``fn(*args, **kwargs)`` in a forked child within ``limits`` (default ``worker_limits()``):
    its result and what it cost. A MonitorError raised in the child is raised here; beyond a limit,
    LimitError("memory" or "seconds") naming ``file_name``."""
    limits = limits or worker_limits()
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    answer_fd = os.memfd_create("ipmon-parse-answer", os.MFD_CLOEXEC)
    started = time.perf_counter()
    child = context.Process(target=_child, args=(sender, answer_fd, fn, args, kwargs, limits), daemon=True)
    try:
        child.start()
        sender.close()
        over_budget = _watch(child, receiver, answer_fd, started + limits.seconds, limits.memory_mb * 1024)
        if over_budget is None:
            error = LimitError("seconds", f"{file_name} 的读取和检查超过 {limits.seconds:g} 秒的上限，已停止；{SPLIT}"
                                          "（Excel 文件可另存为 CSV，读取快得多；管理员可用环境变量 IPMON_PARSE_SECONDS 调整上限）")
            error.worker_stats = WorkerStats(time.perf_counter() - started, 0, 0)
            raise error
        if over_budget:
            kind, payload, start_kb, peak_kb = "memory", None, 0, 0
        else:
            try:
                kind, payload, start_kb, peak_kb = receiver.recv()
            except EOFError:  # the child died without a word: killed by the kernel, out of memory
                kind, payload, start_kb, peak_kb = "memory", None, 0, 0
        if kind == "ok":
            payload = _read_answer(answer_fd)
    finally:
        receiver.close()
        os.close(answer_fd)
        if child.is_alive():
            child.kill()
        if child.pid is not None:
            child.join()
    stats = WorkerStats(time.perf_counter() - started, start_kb, peak_kb)
    if kind == "ok":
        return payload, stats
    if kind == "memory":
        error = LimitError("memory", f"{file_name} 的读取和检查需要超过 {limits.memory_mb:g} MB 内存，已停止；{SPLIT}"
                                     "（管理员可用环境变量 IPMON_PARSE_MEMORY_MB 调整上限）")
    elif kind == "error":
        error = payload
    else:
        raise RuntimeError(f"parsing {file_name} failed in the worker: {payload}")
    error.worker_stats = stats  # what the refusal cost (bench/hostile.py prints it)
    raise error
