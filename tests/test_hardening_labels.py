"""Long user labels are shortened in every chart (and the PDF's cells), so a scenario
with very long names reports in seconds; the tables keep the full text (issue 13: "labels
are never shortened, so a 300 KB file took 90-110 s to report")."""
from __future__ import annotations

import json
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

from helpers import chipsim_command

LONG = 20_000  # characters of each label and name
ID = 400       # characters of each id (YAML keys stay under its 1,024-character limit)


def _text(word: str, n: int) -> str:
    return (word * (n // len(word) + 1))[:n]


SOURCE, BUYER, PRODUCT = _text("s", ID), _text("buyer", ID), _text("p", ID)
REGION, BUYER_LABEL = _text("Region of the source ", LONG), _text("Buyer label ", LONG)


def _scenario() -> str:
    q = json.dumps
    return f"""\
name: {q(_text("Scenario name ", LONG))}
description: {q(_text("Description ", LONG))}
horizon: 120
replications: 2
products:
  {PRODUCT}: {{unit: t, label: {q(_text("Product label ", LONG))}}}
nodes:
  {SOURCE}: {{region: {q(REGION)}, produces: {PRODUCT}, capacity: 3, label: {q(_text("Source label ", LONG))}}}
  {BUYER}:
    region: {q(_text("Region of the buyer ", LONG))}
    label: {q(BUYER_LABEL)}
    inventory: {{{PRODUCT}: 10}}
    demand: {{product: {PRODUCT}, rate: 5}}
    reorder: {{policy: base_stock, days_of_cover: 10}}
lanes:
  - {{from: {SOURCE}, to: {BUYER}, product: {PRODUCT}, lead_time: 5}}
shocks:
  - {{type: export_ban, name: {q(_text("Shock name ", LONG))}, start: 20, end: 60, from: {SOURCE}}}
"""


def _svg_lines(folder) -> list[str]:
    """Every line of text drawn in the SVG charts of ``folder`` (svg.fonttype: none keeps text as text)."""
    lines = []
    for svg in sorted(folder.glob("*.svg")):
        for element in ET.parse(svg).iter():
            if element.tag.endswith("}text") or element.tag == "text":
                lines += "".join(element.itertext()).splitlines()
    assert lines, f"no text found in the SVGs of {folder}"
    return lines


@pytest.fixture(scope="module")
def long_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("long")
    (folder / "long.yaml").write_text(_scenario(), encoding="utf-8")
    assert (folder / "long.yaml").stat().st_size > 150_000
    done = subprocess.run(chipsim_command("run", "long.yaml", "--out", "out", "-q", "--svg"), cwd=folder, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return folder / "out"


def test_a_scenario_with_very_long_labels_reports_in_seconds(long_run):
    started = time.monotonic()
    done = subprocess.run(chipsim_command("report", str(long_run)), capture_output=True, text=True, timeout=300)
    took = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-2000:]
    assert took < 40, f"report took {took:.0f} s"
    assert (long_run / "briefing.pdf").stat().st_size > 0


def test_every_chart_line_is_short_and_long_labels_end_in_an_ellipsis(long_run):
    lines = _svg_lines(long_run / "charts")
    longest = max(lines, key=len)
    assert len(longest) <= 250, longest[:300]  # a label is 20,000 characters, an id 400
    # the buyer's label (the focus row) and the source's region are drawn cut, with an ellipsis
    assert any(BUYER_LABEL[:30] in line and "…" in line for line in lines)
    assert any(line.startswith(REGION[:15]) and line.endswith("…") for line in lines)


def test_the_tables_keep_the_full_text(long_run):
    network = (long_run / "charts" / "network_map.csv").read_text(encoding="utf-8")
    assert REGION in network and SOURCE in network and BUYER in network
    assert BUYER in (long_run / "kpis.csv").read_text(encoding="utf-8")
    assert BUYER_LABEL in (long_run / "briefing.html").read_text(encoding="utf-8")


def test_the_tornado_chart_shortens_long_lever_paths_and_nodes(tmp_path):
    (tmp_path / "long.yaml").write_text(_scenario(), encoding="utf-8")
    done = subprocess.run(chipsim_command("sweep", "long.yaml", "--vary", f"nodes.{SOURCE}.capacity=1:4", "--samples", "4",
                                          "-n", "1", "--out", "out"), cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = _svg_lines(tmp_path / "out" / "charts")
    assert max(len(line) for line in lines) <= 250
    assert any(line.startswith("nodes.sss") and line.endswith("…") for line in lines)  # the lever's tick label
    assert f"nodes.{SOURCE}.capacity" in (tmp_path / "out" / "sensitivity.csv").read_text(encoding="utf-8")
