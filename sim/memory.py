"""Whether a run, comparison or sweep fits in memory, said before anything runs.

The need comes from ``sim.experiment.estimated_bytes`` (fitted on measured peaks; a
sweep runs one sample at a time, each keeping every replication); the
room is the smaller of a fixed ceiling and what this process can actually get: the
machine's available memory and free swap (plus what the process already holds), a
container's memory limit (cgroup v2 or v1) and the address-space limit (``ulimit -v``).
"""
from __future__ import annotations

import contextlib
import resource
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ChipsimUserError

if TYPE_CHECKING:
    from .schema import Scenario
    from .sweep import Lever

WARN_BYTES = 2 * 2**30     # above this, a note before the run
REFUSE_BYTES = 12 * 2**30  # above this (or above the memory available), a refusal
_NO_LIMIT = 2**60          # cgroup files write "max" or a huge number for no limit


def _meminfo() -> dict[str, int]:
    """/proc/meminfo in bytes (empty where there is none)."""
    values: dict[str, int] = {}
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            name, _, rest = line.partition(":")
            values[name] = int(rest.split()[0]) * 1024
    return values


def _resident() -> int:
    """This process's resident memory in bytes (0 where unknown)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _cgroup_limit() -> int | None:
    """The memory limit of the container in bytes, if one is set."""
    for name in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        with contextlib.suppress(OSError, ValueError):
            text = Path(name).read_text().strip()
            if text != "max" and int(text) < _NO_LIMIT:
                return int(text)
    return None


def available_bytes() -> int | None:
    """The memory in bytes this process can still use for a run, counting what it holds
    already; None when the system does not say."""
    limits = []
    info = _meminfo()
    if "MemAvailable" in info:
        limits.append(info["MemAvailable"] + info.get("SwapFree", 0) + _resident())
    cgroup = _cgroup_limit()
    if cgroup is not None:
        limits.append(cgroup)
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY and soft > 0:
        limits.append(soft)  # address space counts every mapping, so a resident need above it cannot fit
    return min(limits) if limits else None


def _gb(n: float) -> str:
    return f"{n / 2**30:.1f}" if n < 10 * 2**30 else f"{n / 2**30:,.0f}"


def check_memory(need: int, what: str, hint: str, note_hint: str = "") -> str | None:
    """Refuse (``ChipsimUserError``) a job needing ``need`` bytes above the fixed ceiling
    or above the memory available; return a note when it needs more than ``WARN_BYTES``
    (else None). ``what`` names the job ("this run"), ``hint`` says how to make it
    smaller, ``note_hint`` is added to the note."""
    room = available_bytes()
    if need > REFUSE_BYTES:
        raise ChipsimUserError(f"{what} would need about {_gb(need)} GB of memory; rerun with {hint}")
    if room is not None and need > room:
        raise ChipsimUserError(f"{what} would need about {_gb(need)} GB of memory, and about {_gb(room)} GB is "
                               f"available here; rerun with {hint}")
    if need > WARN_BYTES:
        return f"note: {what} needs about {need / 2**30:.1f} GB of memory{note_hint}"
    return None


def run_note(scenario: Scenario, replications: int | None, keep: str, variants: int = 1) -> str | None:
    """``check_memory`` of a run keeping ``keep`` (or a comparison of ``variants`` scenarios
    like it) of ``replications`` (default: the scenario's)."""
    from .experiment import estimated_bytes
    from .network import build_network

    need = estimated_bytes(build_network(scenario), replications or scenario.replications, keep, variants)
    if keep == "all":
        return check_memory(need, "keeping every replication", "--keep summary (per-day quantiles and KPIs) or fewer "
                            "replications", "; --keep summary keeps quantiles and KPIs only")
    return check_memory(need, "this run", "fewer replications, a shorter horizon or fewer options")


def sweep_bytes(scenario: Scenario, levers: Sequence[Lever], replications: int | None = None) -> int:
    """Peak memory in bytes of a sweep: its samples run one after another, each keeping
    every replication, so that of the largest sample (a ``horizon`` lever counts at its
    HIGH)."""
    from .experiment import estimated_bytes
    from .network import build_network

    longest = max([scenario.horizon] + [int(lv.high) for lv in levers if lv.path == "horizon"])
    return estimated_bytes(build_network(scenario), replications or scenario.replications, "all", horizon=longest,
                           saved=False)


def sweep_note(scenario: Scenario, levers: Sequence[Lever], replications: int | None = None) -> str | None:
    """``check_memory`` of a sweep (see ``sweep_bytes``)."""
    return check_memory(sweep_bytes(scenario, levers, replications), "each sample of this sweep",
                        "fewer replications (-n) or a shorter horizon")
