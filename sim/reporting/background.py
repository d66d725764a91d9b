"""A run's report (charts and briefing) drawn by a second process that starts just before
the simulation: while the engine runs, it imports the plotting and typesetting libraries
and draws a throw-away figure and page (fonts, PNG encoder, scipy's t quantiles, page
layout, HTML template), so that once the summary is printed it draws at once, on the other
core, while the parent writes the tables. It then forks a helper, warm as it is, that
draws about half of the charts beside it, in memory, and pipes their files back; the
briefing (HTML, then the PDF from the PNGs) follows.

``ReportProcess.start()`` forks it (Linux, while no other thread runs; elsewhere, or with
``CHIPSIM_REPORT_PROCESS=0``, it returns None and the report is drawn in the parent as before).
``writer`` gives a run directory's report writer (``sim.rundir.ReportWriter``) with a
``begin`` that hands the process the run's tables and temporary folder before the tables
are written; calling the writer waits for the process, relaying its steps. ``cancel`` kills
the process and waits for it to end (the kernel kills the helper with it, and the helper
writes no file): an interrupt or an error leaves no process behind, and the temporary
folder is removed whole by the parent. Every file is written through ``sim.safefs``, as
the parent would, and the charts and briefing are the same, byte for byte.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import pickle
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import ChipsimUserError

ENV = "CHIPSIM_REPORT_PROCESS"  # "0": draw in the parent, as before


class RemoteTraceback(Exception):
    """The report process's own traceback, chained under the error it raised."""

    def __str__(self) -> str:
        return str(self.args[0])


def warm_up() -> None:
    """Import what a report needs and draw a throw-away chart and PDF page in memory, so
    that fonts, the PNG encoder, the page layout and the HTML template are loaded."""
    import io

    import numpy as np
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table

    from ..statistics import paired_interval
    from .briefing import template
    from .charts import _dates
    from .pdf import BODY, CELL
    from .style import chart_style, new_figure

    template()
    paired_interval(np.array([0.0, 1.0]))  # imports scipy.special, which the interval bars need
    with chart_style():
        fig = new_figure(figsize=(3, 2))
        ax = fig.subplots()
        days = np.array(["2025-01-01", "2025-06-01"], dtype="datetime64[s]")
        ax.plot(days, [0, 1])
        ax.fill_between(days, [0, 0], [1, 1], alpha=0.2)
        ax.barh([0], [1], xerr=[[0.5], [0.5]])
        ax.set_title("0", fontweight="bold")
        _dates(ax)
        fig.text(0.0, 0.0, "0", fontsize=7)
        fig.savefig(io.BytesIO(), format="png", bbox_inches="tight")
    SimpleDocTemplate(io.BytesIO()).build([Paragraph("0", BODY), Table([[Paragraph("<b>0</b>", CELL)]])])


def _sendable(exc: BaseException) -> BaseException:
    """``exc`` itself if it survives pickling, else a RuntimeError with its text."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - any failure to pickle means: send its text
        return RuntimeError(f"{type(exc).__name__}: {exc}")


HELPER_CHARTS = ("survive_recover", "network_map")  # drawn by the helper: about half of the charts' time
CHART_ORDER = ("shortfall_fan", "kpi_bars", "survive_recover", "compute_fan", "network_map")  # as save_charts draws


def _die_with_parent(parent: int) -> None:
    """Have the kernel kill this process when ``parent`` ends (Linux ``PR_SET_PDEATHSIG``)."""
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # no prctl: the helper writes no file, so it can only linger
        pass
    if os.getppid() != parent:  # the parent ended before the request took hold
        os._exit(1)


def _fork_helper(data: Any, charts: Path, svg: bool) -> tuple[int, int]:
    """Fork a helper that draws ``HELPER_CHARTS`` beside this process, in memory, and pipes
    their files back: it writes nothing itself, and dies with this process. Its pid and the
    pipe's end to read."""
    from .charts import save_charts

    read_end, write_end = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid:
        os.close(write_end)
        return pid, read_end
    try:  # the helper
        os.close(read_end)
        _die_with_parent(parent)
        files: list[tuple[Path, bytes]] = []
        save_charts(data, charts, svg, pick=HELPER_CHARTS.__contains__, write=lambda path, blob: files.append((path, blob)))
        message: tuple = ("done", files)
    except BaseException as exc:  # noqa: BLE001 - sent to the report process, which raises it
        message = ("error", _sendable(exc), traceback.format_exc())
    try:
        with os.fdopen(write_end, "wb") as pipe:
            pickle.dump(message, pipe)
    finally:
        os._exit(0)


def _helper_files(pid: int, read_end: int) -> list[tuple[Path, bytes]]:
    """The helper's files (path, bytes), once it is done; its error raised here."""
    with os.fdopen(read_end, "rb") as pipe:
        try:
            message = pickle.load(pipe)
        except EOFError:
            message = None
    _, status = os.waitpid(pid, 0)
    if message is None:
        raise ChipsimUserError(f"the process drawing half of the charts ended unexpectedly (wait status {status}); "
                               "no run directory was written")
    if message[0] == "error":
        raise message[1] from RemoteTraceback(message[2])
    return message[1]


def _both_halves(data: Any, charts: Path, svg: bool) -> list[Path]:
    """``save_charts`` drawn by this process and a helper at once (the same files)."""
    from ..safefs import write_bytes
    from .charts import save_charts

    pid, read_end = _fork_helper(data, charts, svg)
    try:
        made = save_charts(data, charts, svg, pick=lambda name: name not in HELPER_CHARTS)
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(read_end)
        raise
    for path, blob in _helper_files(pid, read_end):
        write_bytes(path, blob)
        made.append(path)
    return sorted(made, key=lambda path: CHART_ORDER.index(path.stem))  # stable: each chart's PNG, SVG, CSV as drawn


def draw_report(data: Any, folder: Path, pdf: bool, svg: bool, helper: bool, step: Callable[[str], object]) -> list[Path]:
    """``briefing.build_report``, with the charts drawn by two processes when ``helper``: this
    one and a forked helper (the same files, byte for byte); the paths written, in order."""
    from .briefing import build_report
    from .charts import save_charts

    return build_report(data, folder, svg=svg, pdf=pdf, step=step, draw=_both_halves if helper else save_charts)


def _serve(conn: Any, parent_end: Any) -> None:
    """The report process: warm up, then draw the one report it is sent (or none)."""
    parent_end.close()  # so that the parent's end closing is seen as the end of the pipe
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the parent decides
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        warm_up()
    except Exception:  # noqa: BLE001, S110 - drawing meets the same problem again and reports it
        pass
    try:
        with os.fdopen(os.dup(conn.fileno()), "rb") as pipe:  # the one message the parent sends: a pickle stream
            data, folder, pdf, svg, helper = pickle.load(pipe)
    except (EOFError, OSError, pickle.UnpicklingError):
        return  # the parent ended, or stopped before its report
    try:
        made = draw_report(data, folder, pdf, svg, helper, step=lambda text: conn.send(("step", text)))
        conn.send(("done", made))
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent, which raises it
        with contextlib.suppress(OSError):  # unless the parent is gone: then there is no one to tell
            conn.send(("error", _sendable(exc), traceback.format_exc()))


class ReportProcess:
    """A forked process that draws one report; see the module's text."""

    def __init__(self) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        self._conn, child_end = ctx.Pipe()
        self._process = ctx.Process(target=_serve, args=(child_end, self._conn), name="chipsim-report", daemon=True)
        self._process.start()
        child_end.close()
        self._sender: threading.Thread | None = None
        self._send_error: BaseException | None = None

    @classmethod
    def start(cls) -> ReportProcess | None:
        """A warming-up report process, or None where forking is not available or not
        safe (other threads running, which a fork would leave holding their locks), or
        not wanted (``CHIPSIM_REPORT_PROCESS=0``)."""
        if os.environ.get(ENV, "1") == "0" or not sys.platform.startswith("linux") or threading.active_count() > 1:
            return None
        try:
            return cls()
        except OSError:  # no process to be had (fork refused): draw in this one
            return None

    def begin(self, data: Any, folder: Path, pdf: bool, svg: bool, helper: bool = True) -> None:
        """Hand the process a run's ``RunData`` (its daily table cut to the rows the charts
        read) and the folder to draw into; ``helper``: draw half of the charts in a helper.
        Pickled straight into the pipe (no copy of the whole in memory), from a thread, so
        that the caller goes on writing its tables meanwhile."""
        from .bands import report_rows

        job = (dataclasses.replace(data, timeseries=report_rows(data.timeseries)), folder, pdf, svg, helper)

        def send() -> None:
            try:
                with os.fdopen(os.dup(self._conn.fileno()), "wb") as pipe:
                    pickle.dump(job, pipe, protocol=pickle.HIGHEST_PROTOCOL)
            except OSError as exc:  # the process is gone: wait() says so
                self._send_error = exc

        self._sender = threading.Thread(target=send, name="chipsim-report-send", daemon=True)
        self._sender.start()

    def wait(self, step: Callable[[str], object] | None = None) -> list[Path]:
        """The files the process wrote, once it is done; ``step`` is told each part as it
        starts. An error in the process is raised here (its traceback chained)."""
        if self._sender is not None:
            self._sender.join()
        while True:
            try:
                message = self._conn.recv()
            except (EOFError, OSError):
                self.cancel()
                raise ChipsimUserError(f"the process drawing the charts ended unexpectedly (exit code "
                                       f"{self._process.exitcode}); no run directory was written") from self._send_error
            if message[0] == "step":
                if step is not None:
                    step(message[1])
                continue
            if message[0] == "done":
                self._process.join(5)  # it has written everything and is leaving
                self.cancel()
                return list(message[1])
            self.cancel()
            raise message[1] from RemoteTraceback(message[2])

    def cancel(self) -> None:
        """End the process (at once if it is still drawing) and wait for it; idempotent."""
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        if self._sender is not None:
            self._sender.join()
        self._conn.close()

    def writer(self, pdf: bool, svg: bool, steps: Any = None) -> BackgroundWriter:
        """This process as a run directory's report writer (``sim.rundir``)."""
        return BackgroundWriter(self, pdf, svg, steps)


class BackgroundWriter:
    """A ``sim.rundir.ReportWriter`` whose ``begin`` starts the report in a ReportProcess
    before the tables are written; calling it waits for the process; ``cancel`` stops it."""

    def __init__(self, process: ReportProcess, pdf: bool, svg: bool, steps: Any = None) -> None:
        self.process, self.pdf, self.svg, self.steps = process, pdf, svg, steps

    def begin(self, data: Any, folder: Path) -> None:
        """Hand the run's data and temporary folder to the process: with a helper for a
        run; alone for a comparison, whose writing takes a fraction of its simulating and
        whose memory binds (a helper's pages, shared, count again in resident memory)."""
        self.process.begin(data, folder, self.pdf, self.svg, helper=data.kind == "run")

    def __call__(self, data: Any, folder: Path) -> list[Path]:
        return self.process.wait(None if self.steps is None else self.steps.step)

    def cancel(self) -> None:
        """Stop the process (see ``ReportProcess.cancel``)."""
        self.process.cancel()
