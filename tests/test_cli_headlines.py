"""A comparison's headlines on the terminal: options whose headline equals the base's in
every replication are counted in one line, not printed as "vs base 0 (0 to 0)"."""
from __future__ import annotations

import io

import pandas as pd
from rich.console import Console

from sim.cliout import print_headlines


def _table(rows):
    return pd.DataFrame(rows)


def test_unchanged_headlines_are_counted_per_option():
    heads = _table([
        {"variant": "base", "headline": "a", "label": "A", "unit": "t", "mean": 5.0, "p05": 1.0, "p95": 9.0, "replications": 4},
        {"variant": "base", "headline": "b", "label": "B", "unit": "t", "mean": 2.0, "p05": 2.0, "p95": 2.0, "replications": 4},
        {"variant": "opt", "headline": "a", "label": "A", "unit": "t", "mean": 3.0, "p05": 0.0, "p95": 6.0, "replications": 4},
        {"variant": "opt", "headline": "b", "label": "B", "unit": "t", "mean": 2.0, "p05": 2.0, "p95": 2.0, "replications": 4},
        {"variant": "same", "headline": "a", "label": "A", "unit": "t", "mean": 5.0, "p05": 1.0, "p95": 9.0, "replications": 4},
        {"variant": "same", "headline": "b", "label": "B", "unit": "t", "mean": 2.0, "p05": 2.0, "p95": 2.0, "replications": 4}])
    diffs = _table([
        {"variant": "opt", "headline": "a", "difference": -2.0, "difference_low": -3.0, "difference_high": -1.0, "pairs": 4},
        {"variant": "opt", "headline": "b", "difference": 0.0, "difference_low": 0.0, "difference_high": 0.0, "pairs": 4},
        {"variant": "same", "headline": "a", "difference": 0.0, "difference_low": 0.0, "difference_high": 0.0, "pairs": 4},
        {"variant": "same", "headline": "b", "difference": 0.0, "difference_low": 0.0, "difference_high": 0.0, "pairs": 4}])
    buf = io.StringIO()
    print_headlines(Console(file=buf, width=200), heads, diffs)
    lines = [ln.strip() for ln in buf.getvalue().splitlines()]
    assert "[opt] A: 3 t (0 to 6); vs base -2 (-3 to -1)" in lines
    assert "[opt] 1 other headline: as the base in every replication" in lines
    assert "[same] 2 headlines: as the base in every replication" in lines
    assert not any("vs base 0" in ln for ln in lines)
    assert sum(ln.startswith("[base]") for ln in lines) == 2      # the base's own lines stay


def test_floating_point_noise_counts_as_unchanged():
    """417,000 chips summed in another order differ by ~2e-11 (5e-17 of the value, far below
    1e-9): the option is as the base. A real difference of one chip still prints."""
    heads = _table([
        {"variant": "base", "headline": "h", "label": "H", "unit": "chip", "mean": 417_000.0, "p05": 417_000.0,
         "p95": 417_000.0, "replications": 10},
        {"variant": "opt", "headline": "h", "label": "H", "unit": "chip", "mean": 417_000.0, "p05": 417_000.0,
         "p95": 417_000.0, "replications": 10},
        {"variant": "one", "headline": "h", "label": "H", "unit": "chip", "mean": 417_001.0, "p05": 417_001.0,
         "p95": 417_001.0, "replications": 10}])
    diffs = _table([
        {"variant": "opt", "headline": "h", "base_mean": 417_000.0, "option_mean": 417_000.0,
         "difference": 0.0, "difference_low": -2.25e-11, "difference_high": 2.25e-11, "pairs": 10},
        {"variant": "one", "headline": "h", "base_mean": 417_000.0, "option_mean": 417_001.0,
         "difference": 1.0, "difference_low": 1.0, "difference_high": 1.0, "pairs": 10}])
    buf = io.StringIO()
    print_headlines(Console(file=buf, width=200), heads, diffs)
    lines = [ln.strip() for ln in buf.getvalue().splitlines()]
    assert "[opt] 1 headline: as the base in every replication" in lines
    assert not any("0.0000" in ln for ln in lines)
    assert any(ln.startswith("[one] H:") and "vs base +1" in ln for ln in lines)


def test_spread_and_difference_are_in_the_headlines_own_scale():
    """A compute headline's mean prints in SI FLOPS, so its 5-95% range and its difference
    do too: 1.14e8 TFLOPS is 1.14e20 FLOPS, 114 EFLOPS (not "114,000,000"); a chip count
    of 1.25e6 reads "1.25 million"."""
    heads = _table([
        {"variant": "base", "headline": "c", "label": "C", "unit": "tflops_bf16", "mean": 2.48e8, "p05": 1.14e8,
         "p95": 2.88e8, "replications": 10},
        {"variant": "opt", "headline": "c", "label": "C", "unit": "tflops_bf16", "mean": 2.38e8, "p05": 1.04e8,
         "p95": 2.78e8, "replications": 10},
        {"variant": "opt", "headline": "n", "label": "N", "unit": "chip", "mean": 2.5e6, "p05": 1.25e6,
         "p95": 3.5e6, "replications": 10}])
    diffs = _table([
        {"variant": "opt", "headline": "c", "difference": -1.0e7, "difference_low": -2.0e7, "difference_high": 5.0e6,
         "pairs": 10},
        {"variant": "opt", "headline": "n", "difference": 2.0e6, "difference_low": 1.5e6, "difference_high": 2.5e6,
         "pairs": 10}])
    buf = io.StringIO()
    print_headlines(Console(file=buf, width=300), heads, diffs)
    text = buf.getvalue()
    assert "(114 EFLOPS to 288 EFLOPS)" in text
    assert "vs base -10 EFLOPS (-20 EFLOPS to 5 EFLOPS)" in text
    assert "N: 2.5 million chip (1.25 million to 3.5 million); vs base +2 million (1.5 million to 2.5 million)" in text


def test_the_last_line_mentions_the_briefing_only_when_one_was_drawn():
    from sim.cli import saved_line

    assert saved_line("runs/x", True) == "Results, charts and briefing in [bold]runs/x[/bold] (open briefing.html)"
    assert saved_line("runs/x", False) == "Results in [bold]runs/x[/bold]"
