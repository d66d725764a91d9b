"""The briefing of a small two-option comparison, as a reader gets it: one answer per
option, no interval language without replications to back it, a page that fits the
window, a short typeset PDF, and hostile labels shown as text."""
from __future__ import annotations

import re
import subprocess

import pytest

import sim
from helpers import CHROMIUM

# a dollar sign pair that mathtext would parse (and "$x^{" would crash it), markup, a bell
HOSTILE = 'Stock $5bn and $x^{ <script>alert(1)</script> \\a end'
BASE = """\
name: Ban on the supplier
horizon: 150
replications: 3
products: {{x: {{unit: t}}}}
nodes:
  s: {{region: CN, produces: x, capacity: 100}}
  b: {{region: US, inventory: {{x: {inv}}}, demand: {{product: x, rate: 10}}, reorder: {{level: 200}}}}
  c: {{region: JP, inventory: {{x: 5000}}, demand: {{product: x, rate: 1}}}}
lanes:
  - {{from: s, to: b, product: x, lead_time: {{dist: triangular, low: 3, mode: 5, high: 9}}}}
shocks:
  - {{type: export_ban, name: Supplier ban, start: 20, end: 80, from: s}}
{policies}
"""
STOCKPILE = """\
policies:
  - {type: stockpile, name: Reserve, node: b, product: x, target: 600, initial: 600, end: 20}
  - {type: stockpile_release, name: Release, node: b, product: x, start: 20, rate: 20/day, when_cover_below: 3}
"""
MORE_STOCK = """\
policies:
  - {type: stockpile, name: Small reserve, node: b, product: x, target: 100, initial: 100, end: 20}
  - {type: stockpile_release, name: Small release, node: b, product: x, start: 20, rate: 10/day, when_cover_below: 2}
"""


def _files(folder, option_name: str):
    base = folder / "base.yaml"
    base.write_text(BASE.format(policies="", inv=100))
    one = folder / "one.yaml"
    one.write_text(BASE.format(policies=STOCKPILE, inv=700).replace("name: Ban on the supplier", f'name: "{option_name}"'))
    two = folder / "two.yaml"
    two.write_text(BASE.format(policies=MORE_STOCK, inv=200).replace("name: Ban on the supplier", "name: Small reserve option"))
    return [base, one, two]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("brief2")
    paths = _files(folder, HOSTILE)
    many = sim.compare(paths, replications=4, seed=3, focus="b").save(folder / "many", svg=True)
    single = sim.compare(paths, replications=1, seed=3, focus="b").save(folder / "single")
    return many, single


def _answer(html: str) -> list[str]:
    block = re.search(r'<div class="answer">(.*?)</div>', html, re.S).group(1)
    return [re.sub(r"<[^>]+>", "", li).strip() for li in re.findall(r"<li>(.*?)</li>", block, re.S)]


def test_one_answer_sentence_per_option(runs):
    many, _ = runs
    lines = _answer((many / "briefing.html").read_text())
    assert len(lines) == 1 + 2  # the base case, then each of the two options once
    assert lines[0].startswith("In the base case")
    assert "Small reserve option" in lines[2] and "Small reserve option" not in lines[1]
    for line in lines[1:]:
        assert "90% interval of the change" in line and re.search(r"better in \d of 4 runs", line)


def test_no_interval_language_with_a_single_replication(runs):
    _, single = runs
    html = (single / "briefing.html").read_text()
    lines = _answer(html)
    assert len(lines) == 3
    text = " ".join(lines)
    assert "- to -" not in html and "n/a to n/a" not in html
    assert "90% interval" not in text and "likely" not in text
    for line in lines[1:]:
        assert "single run" in line


def test_ids_are_not_prose(runs):
    many, _ = runs
    text = " ".join(_answer((many / "briefing.html").read_text()))
    # the demand node b is called "B" (its readable label), never "b:" or "'b'"
    assert " b " not in f" {text} " and "'b'" not in text


def test_hostile_labels_are_text_everywhere(runs):
    many, _ = runs
    html = (many / "briefing.html").read_text()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "\a" not in html  # control characters dropped
    assert len(re.findall(r"<script>", html)) == 1  # the page's own image self-check
    pdfium = pytest.importorskip("pypdfium2")
    pdf = pdfium.PdfDocument(str(many / "briefing.pdf"))
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert "$5bn and $x^{" in text  # shown literally, not as mathtext or markup


def test_charts_draw_hostile_labels_without_mathtext(runs):
    many, _ = runs
    svg = (many / "charts" / "kpi_bars.svg").read_text()
    assert "$5bn and $x^{" in svg.replace("&#36;", "$")  # text, not a parsed formula
    assert "\a" not in svg


def test_pdf_is_short_typeset_and_every_page_has_text(runs):
    pdfium = pytest.importorskip("pypdfium2")
    for folder in runs:
        pdf = pdfium.PdfDocument(str(folder / "briefing.pdf"))
        assert 2 <= len(pdf) <= 12
        for i in range(len(pdf)):
            text = pdf[i].get_textpage().get_text_range()
            assert len(text.strip()) > 20, f"page {i + 1} has no text"
            assert f"page {i + 1}" in text  # numbered


def test_summary_comes_first_and_unchanged_rows_collapse(runs):
    many, _ = runs
    html = (many / "briefing.html").read_text()
    assert html.index('id="summary"') < html.index("<figure>") < html.index("Appendix")
    # node c holds 5,000 t against 1 t a day and is never short: its rows do not differ
    assert "no change at 1 other demand row" in html


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it); browser check skipped")
def test_html_fits_the_window_and_every_image_decodes(runs, tmp_path):
    many, _ = runs
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
             "--window-size=1200,900", "--virtual-time-budget=5000", "--dump-dom", (many / "briefing.html").as_uri()]
    done = subprocess.run([CHROMIUM, *flags], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    body = re.search(r"<body[^>]*>", done.stdout).group(0)
    attrs = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body))
    assert attrs["images-ok"] == "yes" and int(attrs["images"]) >= 4
    assert int(attrs["scroll-width"]) <= int(attrs["window-width"]), attrs
    assert int(attrs["height"]) < 15_000, attrs
