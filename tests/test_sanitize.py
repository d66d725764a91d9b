"""Hostile strings are neutralised where shown (terminal, CSV, XML, charts)."""
from __future__ import annotations

import io
import xml.etree.ElementTree as ET

from rich.console import Console

from sim.sanitize import for_csv, for_plain_terminal, for_terminal, for_xml, shorten


def test_escape_sequences_and_bidi_controls_become_visible():
    hostile = "node\x1b]52;c;ZXZpbA==\x07\x1b[2J\u202egnp.exe"
    out = for_plain_terminal(hostile)
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert out == "node\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J\\u202egnp.exe"


def test_rich_markup_prints_as_written():
    buf = io.StringIO()
    Console(file=buf, width=200, color_system=None).print(for_terminal("[/x] [bold]id[/bold]"))
    assert buf.getvalue().strip() == "[/x] [bold]id[/bold]"


def test_formula_cells_are_prefixed():
    assert [for_csv(v) for v in ("=HYPERLINK(1)", "+1", "-2", "@SUM(A1)", "\tx", "plain", 3.5)] == [
        "'=HYPERLINK(1)", "'+1", "'-2", "'@SUM(A1)", "'\tx", "plain", 3.5]


def test_xml_invalid_characters_are_dropped():
    label = for_xml("a\x00b\x0bc\x1fd\ufffe")
    assert label == "abcd"
    ET.fromstring(f"<text>{label}</text>")  # parses


def test_shorten_adds_an_ellipsis_only_when_cut():
    assert shorten("abc", 5) == "abc"
    assert shorten("abcdefgh", 5) == "abcd…" and len(shorten("abcdefgh", 5)) == 5


def test_hostile_names_reach_the_run_summary_as_text(tmp_path):
    # a scenario name with rich markup, an escape sequence and a bidi override; the run
    # summary's table title used to parse the markup and crash after simulating
    import subprocess

    from helpers import chipsim_command

    text = ('name: "[/x] \\u001b[2J \\u202egnp.exe"\nhorizon: 20\nproducts: {a: {unit: t}}\nnodes:\n'
            '  s: {region: X, produces: a, capacity: 10}\n'
            '  b: {region: Y, inventory: {a: 5}, demand: {product: a, rate: 1}, reorder: {level: 10}}\n'
            'lanes:\n  - {from: s, to: b, product: a, lead_time: 2}\n')
    (tmp_path / "s.yaml").write_text(text)
    proc = subprocess.run(chipsim_command("run", "s.yaml", "--out", "out", "--no-report"), cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "[/x]" in proc.stdout and "\x1b" not in proc.stdout and "\u202e" not in proc.stdout
    assert "\\x1b[2J" in proc.stdout and "\\u202egnp.exe" in proc.stdout


def test_chart_texts_are_bounded_in_width_and_lines():
    from sim.sanitize import for_chart

    assert for_chart("short") == "short"
    cut = for_chart("y" * 1000, width=50)
    assert len(cut) == 50 and cut.endswith("…")
    many = for_chart("\n".join(f"line {i}" for i in range(20)), lines=3)
    assert many.splitlines() == ["line 0", "line 1", "line 2…"]


def test_user_errors_that_quote_a_path_show_its_control_characters_as_text(tmp_path):
    # "already exists" quotes --out; an escape sequence in that path used to reach the terminal
    from helpers import TINY, cli

    (tmp_path / "s.yaml").write_text(TINY)
    out = tmp_path / "runs\x1b[2J"
    out.mkdir()
    result = cli("run", tmp_path / "s.yaml", "-n", 1, "--quiet", "--out", out)
    assert result.exit_code == 2
    assert "\x1b" not in result.stderr and "runs\\x1b[2J already exists" in result.stderr
