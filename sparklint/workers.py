"""Lowering files in worker processes that one bad file cannot take down with the run.

libcst's parser is native code: on some inputs it aborts the process (SIGABRT) or allocates
gigabytes, and no Python `except` can stop that. Every file is therefore lowered in a worker
with a memory limit, one file at a time, under a deadline. A worker that dies or overruns is
replaced, and its file is reported as not parsed (SPK000) with the reason; the other files
are lowered as usual.
"""

from __future__ import annotations

import faulthandler
import functools
import gc
import multiprocessing
import os
import signal
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait

from sparklint.deepstack import DEEP_STACK_BYTES, run_deep

CPU_SECONDS_PER_FILE = 30  # of the worker's own CPU time, so a busy machine does not change results
WALL_SECONDS_PER_FILE = 120.0  # a backstop for a worker that waits instead of working
MEMORY_PER_WORKER = 1024**3  # on top of what the worker holds when it starts and its deep stack


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a worker gave no result for one job."""

    reason: str


class _Worker:
    def __init__(self, context, work: Callable, warm_up: Callable[[], object] | None = None) -> None:
        parent_end, child_end = context.Pipe()
        self.process = context.Process(target=_serve, args=(child_end, work, warm_up), daemon=True)
        self.process.start()
        child_end.close()
        self.connection: Connection = parent_end
        self.job: int | None = None
        self.started = 0.0

    def give(self, index: int, payload) -> None:
        self.job, self.started = index, time.monotonic()
        self.connection.send((index, payload))

    def stop(self) -> None:
        try:
            self.connection.send(None)
        except OSError:
            pass
        self.connection.close()
        self.process.join(timeout=1)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()

    def kill(self) -> None:
        self.process.kill()
        self.process.join()
        self.connection.close()


def run_isolated(work: Callable, payloads: list, jobs: int, cpu_seconds: int = CPU_SECONDS_PER_FILE,
                 seconds_per_job: float = WALL_SECONDS_PER_FILE, finish: Callable | None = None,
                 warm_up: Callable[[], object] | None = None) -> list:
    """`work(payload)` for every payload, in worker processes, each running on a deep stack
    (`work` must not start one of its own): the results in order, with a `Failure` where a
    worker died, used more than `cpu_seconds` of CPU or `seconds_per_job` of wall time on one
    payload. `finish(result)` is applied to each result that arrives (not to failures) while
    the workers go on with the next payloads. `warm_up()` runs once in each worker before its
    first payload, so that what a process pays once is charged to no payload. Raises OSError
    when no worker process can be started here (the caller then works in its own process)."""
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    results: list = [None] * len(payloads)
    waiting = deque(range(len(payloads)))
    work = functools.partial(_within_cpu_seconds, work, cpu_seconds)
    spawn = functools.partial(_Worker, context, work, warm_up)
    workers = [spawn() for _ in range(max(1, min(jobs, len(payloads))))]
    received: list[int] = []
    try:
        while waiting or any(worker.job is not None for worker in workers):
            for worker in workers:
                if worker.job is None and waiting:
                    index = waiting.popleft()
                    worker.give(index, payloads[index])
            _finished(results, received, finish)
            busy = [worker for worker in workers if worker.job is not None]
            if not busy:
                continue
            deadline = min(worker.started for worker in busy) + seconds_per_job
            ready = wait([worker.connection for worker in busy], timeout=max(0.0, deadline - time.monotonic()))
            for position, worker in enumerate(workers):
                if worker.job is None:
                    continue
                if worker.connection in ready:
                    workers[position] = _collect(worker, results, spawn, cpu_seconds, received)
                elif time.monotonic() - worker.started > seconds_per_job:
                    results[worker.job] = Failure(f"parsing took more than {seconds_per_job:.0f} s")
                    worker.kill()
                    workers[position] = spawn()
    finally:
        for worker in workers:
            worker.stop()
    _finished(results, received, finish)
    return results


def _finished(results: list, received: list[int], finish: Callable | None) -> None:
    if finish is not None:
        for index in received:
            if not isinstance(results[index], Failure):
                results[index] = finish(results[index])
    received.clear()


def _collect(worker: _Worker, results: list, spawn: Callable[[], _Worker], cpu_seconds: int,
             received: list[int]) -> _Worker:
    """The finished job's result, or the failure of a worker that died on it."""
    try:
        index, result = worker.connection.recv()
        results[index] = result
        received.append(index)
        worker.job = None
        return worker
    except (EOFError, OSError):
        worker.process.join()
        results[worker.job] = Failure(_death(worker.process.exitcode, cpu_seconds))
        worker.connection.close()
        return spawn()


def _within_cpu_seconds(work: Callable, cpu_seconds: int, payload):
    """`work(payload)`, killed by the kernel (SIGXCPU) once it has used `cpu_seconds` more CPU."""
    try:
        import resource
    except ImportError:
        return work(payload)
    used = resource.getrusage(resource.RUSAGE_SELF)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = int(used.ru_utime + used.ru_stime) + 1 + cpu_seconds
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))
    except (ValueError, OSError):
        pass
    return work(payload)


def _death(exitcode: int | None, cpu_seconds: int) -> str:
    if exitcode == -signal.SIGXCPU:
        return f"parsing used more than {cpu_seconds} s of CPU time"
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"the parser crashed ({name})"
    return f"the parser's process ended (exit code {exitcode})"


def _serve(connection: Connection, work: Callable, warm_up: Callable[[], object] | None) -> None:
    faulthandler.disable()  # a native crash here is reported as the file's SPK000, not as a dump
    _silence_stderr()
    _limit_memory()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    gc.freeze()  # what the parent held when it forked is never collected here (nor copied by touching it)
    run_deep(lambda: _serve_jobs(connection, work, warm_up))  # one deep stack for parsing and for pickling what it built


def _serve_jobs(connection: Connection, work: Callable, warm_up: Callable[[], object] | None) -> None:
    if warm_up is not None:
        try:
            warm_up()
        except Exception:  # only a head start: the first payload pays for it instead
            pass
    while True:
        try:
            job = connection.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        index, payload = job
        try:
            result = work(payload)
        except MemoryError:
            result = Failure("parsing needed more than the memory limit")
        except Exception as error:  # one file's failure, reported as that file's
            result = Failure(f"the parser failed ({type(error).__name__})")
        try:
            connection.send((index, result))
        except (RecursionError, MemoryError):
            connection.send((index, Failure("the parsed file was too deeply nested to hand over")))


def _silence_stderr() -> None:
    """What a worker prints on its way down (a native allocator's "memory allocation failed" and
    backtrace under the memory limit) is the file's SPK000, reported by the parent: the terminal
    gets sparklint's own one-line messages only."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:
        pass


def _limit_memory() -> None:
    try:
        import resource
    except ImportError:  # not on this platform: the time limit still holds
        return
    try:
        with open(f"/proc/{os.getpid()}/statm") as statm:
            held = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return
    limit = held + DEEP_STACK_BYTES + MEMORY_PER_WORKER
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):
        pass
