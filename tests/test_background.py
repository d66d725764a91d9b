"""The report drawn by a second process (``sim.reporting.background``): the same files,
byte for byte, as drawn in the parent; its errors raised in the parent; an interrupt or
its death leaves no run directory, no partial files and no process behind."""
from __future__ import annotations

import multiprocessing
import os
import re
import signal
import threading
import time
from pathlib import Path

import pytest

import sim
from helpers import ban_text, cli
from sim.cliout import drawing, save
from sim.errors import ChipsimUserError
from sim.reporting.background import RemoteTraceback, ReportProcess


def _file(tmp_path: Path, name: str, end: int) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(ban_text(name, end, horizon=120, replications=3))
    return path


def _pdf_without_dates(data: bytes) -> bytes:
    """A PDF with its creation dates and document id blanked (reportlab stamps the clock)."""
    data = re.sub(rb"D:\d{14}[^)]*\)", b"D:)", data)
    return re.sub(rb"/ID\s*\[[^\]]*\]", b"/ID []", data)


def _svg_without_stamps(data: bytes) -> bytes:
    """An SVG with matplotlib's date and random element ids blanked (they differ between
    any two drawings of one figure, in one process or two)."""
    data = re.sub(rb"<dc:date>[^<]*</dc:date>", b"", data)
    return re.sub(rb'(id="|#)([a-z]+)[0-9a-f]{10}\b', rb"\1\2x", data)


def _files(folder: Path) -> dict[str, bytes]:
    found = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        clean = {".pdf": _pdf_without_dates, ".svg": _svg_without_stamps}.get(path.suffix, lambda d: d)
        found[str(path.relative_to(folder))] = clean(data)
    return found


def _save_beside(what, out: Path, **kw) -> Path:
    with drawing(True) as process:
        assert process is not None  # Linux, one thread: the report is drawn in the second process
        return save(what, out, False, True, kw.get("pdf", True), False, kw.get("svg", False), process)


@pytest.mark.parametrize("pdf, svg", [(True, False), (False, True)])
def test_a_run_drawn_beside_the_tables_has_the_same_files_byte_for_byte(tmp_path, pdf, svg):
    results = sim.run(_file(tmp_path, "ban", 60))
    here = _files(results.save(tmp_path / "here", pdf=pdf, svg=svg))
    beside = _files(_save_beside(results, tmp_path / "beside", pdf=pdf, svg=svg))
    assert sorted(here) == sorted(beside)
    assert ("briefing.pdf" in beside) == pdf and ("charts/network_map.svg" in beside) == svg
    assert [name for name in here if here[name] != beside[name]] == []
    assert multiprocessing.active_children() == []


def test_a_comparison_drawn_beside_the_tables_has_the_same_files_byte_for_byte(tmp_path):
    comparison = sim.compare([_file(tmp_path, "base", 60), _file(tmp_path, "option", 20)])
    here = _files(comparison.save(tmp_path / "here"))
    beside = _files(_save_beside(comparison, tmp_path / "beside"))
    assert sorted(here) == sorted(beside) and "charts/kpi_bars.png" in beside
    assert [name for name in here if here[name] != beside[name]] == []


def test_a_compute_market_run_drawn_beside_the_tables_has_the_same_files(tmp_path):
    from helpers import scenario

    # a priced chip bought for its TFLOPS under a ban: compute fans, price fan, compute shortfall
    sc = scenario(horizon=90, replications=3, seed=5,
                  products={"a": {"unit": "chip", "price": 100, "tflops": 2.0,
                                  "market": {"elasticity": -0.5, "window_days": 10}}},
                  nodes={"src": {"region": "US", "produces": "a", "capacity": 6},
                         "dc": {"region": "CN", "demand": {"product": ["a"], "measure": "tflops", "rate": 10},
                                "inventory": {"a": 60}, "reorder": {"policy": "base_stock", "days_of_cover": 10}}},
                  lanes=[{"from": "src", "to": "dc", "product": "a", "lead_time": 1}],
                  shocks=[{"type": "export_ban", "start": 10, "end": 40, "from": "src"}])
    results = sim.run(sc)
    here = _files(results.save(tmp_path / "here"))
    beside = _files(_save_beside(results, tmp_path / "beside"))
    assert {"charts/price_fan.png", "charts/compute_fan.png", "charts/shortfall_fan.png"} <= set(beside)
    assert sorted(here) == sorted(beside)
    assert [name for name in here if here[name] != beside[name]] == []


def test_the_command_line_run_ends_its_report_process(tmp_path):
    done = cli("run", _file(tmp_path, "ban", 60), "--out", tmp_path / "run", "-q")
    assert done.exit_code == 0, done.output
    assert (tmp_path / "run" / "briefing.pdf").is_file() and (tmp_path / "run" / "charts" / "kpi_bars.png").is_file()
    assert multiprocessing.active_children() == []


def _only_the_inputs_remain(tmp_path: Path) -> None:
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ban.yaml"]
    assert multiprocessing.active_children() == []


def test_a_disk_error_in_the_report_process_is_the_parents_one_line_error(tmp_path, monkeypatch):
    import errno

    from sim.reporting import briefing

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(briefing, "write_pdf", full)  # the forked process inherits the patch
    results = sim.run(_file(tmp_path, "ban", 60))
    with pytest.raises(ChipsimUserError, match="No space left on device"):
        _save_beside(results, tmp_path / "run")
    _only_the_inputs_remain(tmp_path)


def test_a_bug_in_the_report_process_is_raised_with_its_traceback(tmp_path, monkeypatch):
    from sim.reporting import charts

    def broken(*args, **kwargs):
        raise ValueError("a chart that cannot be drawn")

    monkeypatch.setattr(charts, "save_charts", broken)
    results = sim.run(_file(tmp_path, "ban", 60))
    with pytest.raises(ValueError, match="cannot be drawn") as info:
        _save_beside(results, tmp_path / "run")
    assert isinstance(info.value.__cause__, RemoteTraceback)
    assert ", in broken" in str(info.value.__cause__)  # the report process's own frames
    _only_the_inputs_remain(tmp_path)


def test_a_report_process_that_dies_is_an_error_and_leaves_nothing(tmp_path, monkeypatch):
    from sim.reporting import charts

    monkeypatch.setattr(charts, "save_charts", lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL))
    results = sim.run(_file(tmp_path, "ban", 60))
    with pytest.raises(ChipsimUserError, match="ended unexpectedly .exit code -9."):
        _save_beside(results, tmp_path / "run")
    _only_the_inputs_remain(tmp_path)


def test_a_helper_that_dies_is_an_error_and_leaves_nothing(tmp_path, monkeypatch):
    from sim.reporting import charts
    from sim.safefs import write_bytes

    real = charts.save_charts

    def helper_dies(data, folder, svg=False, pick=lambda name: True, write=write_bytes):
        if pick("network_map") and not pick("kpi_bars"):  # the helper's half
            os.kill(os.getpid(), signal.SIGKILL)
        return real(data, folder, svg, pick=pick, write=write)

    monkeypatch.setattr(charts, "save_charts", helper_dies)
    results = sim.run(_file(tmp_path, "ban", 60))
    with pytest.raises(ChipsimUserError, match="half of the charts ended unexpectedly"):
        _save_beside(results, tmp_path / "run")
    _only_the_inputs_remain(tmp_path)


def _gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (absent, or a zombie left for its new parent)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] in "ZX"
    except FileNotFoundError:
        return True


def test_an_interrupt_while_the_charts_are_drawn_stops_both_drawing_processes_at_once(tmp_path, monkeypatch):
    from sim.reporting import charts

    pids = tmp_path / "pids"
    pids.mkdir()

    def slow(*args, **kwargs):
        (pids / str(os.getpid())).touch()
        time.sleep(60)

    monkeypatch.setattr(charts, "save_charts", slow)
    results = sim.run(_file(tmp_path, "ban", 60))
    with drawing(True) as process:
        assert process is not None
        threading.Timer(3, os.kill, (os.getpid(), signal.SIGINT)).start()  # Ctrl-C, once the charts began
        started = time.perf_counter()
        with pytest.raises(KeyboardInterrupt):
            save(results, tmp_path / "run", False, True, True, False, False, process)
        assert time.perf_counter() - started < 20  # not the minute the drawing would take
    drawers = [int(p.name) for p in pids.iterdir()]
    assert len(drawers) == 2  # the report process and its helper
    time.sleep(0.5)  # the helper is killed by the kernel when the report process ends
    assert all(_gone(pid) for pid in drawers)
    for p in pids.iterdir():
        p.unlink()
    pids.rmdir()
    _only_the_inputs_remain(tmp_path)


def test_a_process_never_handed_a_report_ends_with_the_command(tmp_path):
    with drawing(True) as process:
        assert process is not None and multiprocessing.active_children() != []
    assert multiprocessing.active_children() == []


def test_no_process_where_forking_is_unsafe_or_unwanted(monkeypatch):
    monkeypatch.setenv("CHIPSIM_REPORT_PROCESS", "0")
    assert ReportProcess.start() is None
    monkeypatch.delenv("CHIPSIM_REPORT_PROCESS")
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert ReportProcess.start() is None  # a fork would copy the other thread's locks, held
    finally:
        stop.set()
        other.join()
    with drawing(False) as process:
        assert process is None
