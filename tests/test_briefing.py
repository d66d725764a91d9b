"""The briefing as a reader sees it: escaped text, images that load, PDF pages with ink."""
from __future__ import annotations

import re
import subprocess

import pytest

import sim
from helpers import CHROMIUM

HOSTILE = '<script>alert("x")</script> & "quotes"'


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("briefing")
    path = folder / "hostile.yaml"
    path.write_text(f"""\
name: '{HOSTILE}'
description: 'A <b>description</b> with <img src=x onerror=alert(1)>'
horizon: 120
replications: 3
products: {{x: {{unit: t}}}}
nodes:
  s: {{region: CN, produces: x, capacity: 100}}
  b: {{region: US, inventory: {{x: 100}}, demand: {{product: x, rate: 10}}, reorder: {{level: 200}}}}
lanes:
  - {{from: s, to: b, product: x, lead_time: 5}}
shocks:
  - {{type: export_ban, name: '<i>ban</i>', start: 20, end: 60, from: s}}
""")
    return sim.run(path).save(folder / "out")


def test_user_strings_are_escaped(run_dir):
    html = (run_dir / "briefing.html").read_text()
    assert "<script>alert" not in html and "<img src=x" not in html and "<i>ban</i>" not in html
    assert "&lt;script&gt;alert" in html
    # the only script is the page's own image self-check
    assert len(re.findall(r"<script>", html)) == 1


def test_briefing_is_self_contained(run_dir):
    html = (run_dir / "briefing.html").read_text()
    sources = re.findall(r'<img src="([^"]+)"', html)
    assert len(sources) >= 4 and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "http://" not in html and "https://" not in html


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it); browser check skipped")
def test_briefing_renders_in_headless_chromium_without_errors(run_dir, tmp_path):
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
             "--virtual-time-budget=5000", "--dump-dom", (run_dir / "briefing.html").as_uri()]
    done = subprocess.run([CHROMIUM, *flags], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    body = re.search(r"<body[^>]*>", done.stdout).group(0)
    n_images = len(re.findall(r'<img src="data:image/png', (run_dir / "briefing.html").read_text()))
    assert 'data-images-ok="yes"' in body, body
    assert f'data-images="{n_images}"' in body
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line]
    assert not [line for line in console if re.search(r"error|uncaught", line, re.IGNORECASE)], console


def test_pdf_pages_are_not_blank(run_dir):
    pdfium = pytest.importorskip("pypdfium2")
    import numpy as np
    pdf = pdfium.PdfDocument(str(run_dir / "briefing.pdf"))
    assert len(pdf) >= 4
    for i in range(len(pdf)):
        pixels = np.asarray(pdf[i].render(scale=0.5).to_pil().convert("L"))
        ink = (pixels < 200).mean()
        assert ink > 0.002, f"page {i + 1} looks blank"
