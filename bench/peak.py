"""Peak memory and wall time of a command, summed over the process and its children.

``measure(argv)`` starts the command and samples, every ``interval`` seconds, the
resident memory of the process and of every descendant (the pool's workers) with
psutil; the peak is the largest sum seen (a worker's peak between samples may be
missed, so it is a lower bound within one interval's growth). The largest single
process is the largest resident set one sample saw. Not ``ru_maxrss`` of the children:
Linux carries it across fork and exec (a child reports its parent's size at the fork)
and keeps the largest of every child the bench has started so far.
"""
from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass


@dataclass
class Peak:
    """What ``measure`` saw: the largest summed RSS, the largest single process, wall time."""

    summed_bytes: int
    largest_bytes: int
    wall_s: float
    returncode: int
    stdout: str
    stderr: str


def _tree_rss(proc) -> tuple[int, int]:
    """Summed and largest resident set (bytes) of ``proc`` and its descendants now."""
    import psutil

    total = largest = 0
    try:
        members = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0, 0
    for member in members:
        try:
            rss = member.memory_info().rss
        except psutil.Error:
            continue
        total += rss
        largest = max(largest, rss)
    return total, largest


def measure(argv: list[str], interval: float = 0.05, env: dict | None = None, cwd: str | None = None) -> Peak:
    """Run ``argv`` to the end; its peak summed resident memory, in bytes, and wall time in s."""
    import psutil

    started = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
    proc = psutil.Process(child.pid)
    peak = largest = 0
    import threading

    stop = threading.Event()

    def sample() -> None:
        nonlocal peak, largest
        while not stop.is_set():
            summed, biggest = _tree_rss(proc)
            peak, largest = max(peak, summed), max(largest, biggest)
            stop.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = child.communicate()
    stop.set()
    sampler.join()
    wall = time.perf_counter() - started
    return Peak(peak, largest, wall, child.returncode, out, err)


if __name__ == "__main__":
    import sys

    got = measure(sys.argv[1:])
    print(f"peak summed RSS {got.summed_bytes / 2**30:.2f} GiB, largest process {got.largest_bytes / 2**30:.2f} GiB, "
          f"wall {got.wall_s:.1f} s, exit {got.returncode}")
    if got.returncode:
        print(got.stderr[-2000:])
