"""The README's policy briefing (00 against 07a, 07b and 07c, focus EU magnet users) on a
one-year horizon: the tables hold only existing rows, the headline never contradicts
itself, the page fits a browser window and the PDF is a short typeset document."""
from __future__ import annotations

import re
import subprocess

import pandas as pd
import pytest

import sim
from helpers import CHROMIUM, ROOT, chipsim_command
from sim.metrics import compared

FILES = ["00-as-it-happened-2025-26", "07a-policy-eu-stockpile", "07b-policy-separation-ramp", "07c-policy-magnet-recycling"]


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    folder = tmp_path_factory.mktemp("recipe")
    for name in FILES:  # each file of the recipe, cut to one year
        (folder / f"{name}.yaml").write_text(f"extends: {ROOT / 'scenarios' / (name + '.yaml')}\nhorizon: 1y\n")
    out = folder / "out"
    done = subprocess.run(chipsim_command("compare", *(folder / f"{n}.yaml" for n in FILES), "--focus", "eu_magnet_users",
                                          "-n", "3", "--workers", "2", "--search-path", ROOT / "scenarios", "--out", out),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def test_comparison_rows_are_existing_pairs_times_metrics_times_options(recipe):
    base = sim.load_scenario(ROOT / "scenarios" / "00-as-it-happened-2025-26.yaml")
    demand = [n for n in base.nodes.values() if n.demand is not None]
    compute = [n for n in demand if n.demand.measure]
    facility = [n for n in compute if n.pue is not None or n.server_overhead is not None]
    # every demand node has one row (its product, or its compute measure); compute rows
    # also compare energy, and facility energy where the node sets pue or server_overhead;
    # three options against the base
    metrics = [m for m in compared() if m not in ("energy_mwh", "facility_energy_mwh")]
    expected = 3 * (len(demand) * len(metrics) + len(compute) + len(facility))
    table = pd.read_csv(recipe / "comparison.csv")
    assert len(table) == expected
    assert not table[["node", "product"]].drop_duplicates().isin({"product": ["gallium"], "node": ["eu_magnet_users"]}).all(
        axis=1).any()


def test_one_answer_per_option_and_no_contradiction(recipe):
    html = (recipe / "briefing.html").read_text()
    start = html.index('<div class="answer">')
    answer = html[start:html.index("</ul>", start)]
    for name in ("EU joint stockpile", "separation and magnet capacity ramp-up", "EU magnet recycling"):
        said = [s for s in re.findall(r"<li>(.*?)</li>", answer, re.S) if name in s]
        assert len(said) == 1, (name, said)
        assert not ("cuts" in said[0] and "makes no difference" in said[0])
    assert "- to -" not in html and "0 replications" not in html


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it); browser check skipped")
def test_the_page_fits_the_window(recipe, tmp_path):
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
             "--window-size=1200,900", "--virtual-time-budget=5000", "--dump-dom", (recipe / "briefing.html").as_uri()]
    done = subprocess.run([CHROMIUM, *flags], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    attrs = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', re.search(r"<body[^>]*>", done.stdout).group(0)))
    assert attrs["images-ok"] == "yes" and int(attrs["scroll-width"]) <= int(attrs["window-width"])
    assert int(attrs["height"]) < 15_000, attrs


def test_the_pdf_is_at_most_twelve_numbered_pages(recipe):
    pdfium = pytest.importorskip("pypdfium2")
    pdf = pdfium.PdfDocument(str(recipe / "briefing.pdf"))
    assert 2 <= len(pdf) <= 12
    for i in range(len(pdf)):
        assert f"page {i + 1}" in pdf[i].get_textpage().get_text_range()
