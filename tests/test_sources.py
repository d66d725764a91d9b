"""The project carries its own sources (issue 16).

- ``data/sources.csv`` parses, its ids are unique, its required columns are filled, its
  addresses are http(s) URLs and its confidence grades come from the documented scale;
- every ``data/sources.csv: <id>`` reference in scenarios/, docs/, README.md and sim/
  names a row of the file;
- no tracked text file points at the old external notes (``../shared``,
  ``calibration.md``) or at an absolute machine path (``/work/``, ``/home/``).
"""
from __future__ import annotations

import csv
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "data" / "sources.csv"
COLUMNS = ["id", "topic", "figure", "value", "unit", "year", "source", "address",
           "confidence", "used_in", "note"]
REQUIRED = [c for c in COLUMNS if c != "note"]
GRADES = {"H", "M", "L"}
ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$")
# "data/sources.csv: id" or a list "data/sources.csv: id1, id2" (a list may continue on
# the next comment line, after "#").
REFERENCE = re.compile(r"data/sources\.csv:\s*([A-Za-z0-9][\w-]*(?:\s*,[\s#]*[A-Za-z0-9][\w-]*)*)")
FORBIDDEN = ["../shared", "calibration.md", "/work/", "/home/"]
# Paths that may name a forbidden string, with the reason. Keep this empty unless a file
# genuinely has to (this test names them, so it is the one exception).
ALLOWED = {"tests/test_sources.py": "defines the forbidden strings"}


def read_rows(path: Path = SOURCES) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == COLUMNS, f"columns are {reader.fieldnames}"
        return list(reader)


def confidence_ok(grade: str) -> bool:
    """H, M or L; a range 'L-M'; or several readings 'H / L (density)'."""
    for part in grade.split("/"):
        part = re.sub(r"\(.*?\)", "", part).strip()
        if not part or not all(g in GRADES for g in part.split("-")):
            return False
    return True


def problems(rows: list[dict]) -> list[str]:
    out, seen = [], set()
    for n, row in enumerate(rows, start=2):
        rid = row["id"]
        if not ID.match(rid or ""):
            out.append(f"line {n}: bad id {rid!r}")
        if rid in seen:
            out.append(f"line {n}: duplicate id {rid}")
        seen.add(rid)
        for col in REQUIRED:
            if not (row[col] or "").strip():
                out.append(f"{rid}: empty {col}")
        if not re.match(r"^https?://\S+$", row["address"] or ""):
            out.append(f"{rid}: address is not an http(s) URL: {row['address']!r}")
        if not confidence_ok(row["confidence"] or ""):
            out.append(f"{rid}: confidence {row['confidence']!r} is not H, M, L or a range")
    return out


def references(root: Path = ROOT) -> dict[str, set[str]]:
    """Every ``data/sources.csv: <id>`` in the project's text, by id -> files."""
    found: dict[str, set[str]] = {}
    files = [root / "README.md"]
    for folder in ("scenarios", "docs", "sim"):
        files += [p for p in (root / folder).rglob("*") if p.is_file()]
    for path in files:
        if path.suffix not in {".md", ".yaml", ".yml", ".py", ".txt", ".csv"}:
            continue
        for group in REFERENCE.findall(path.read_text(encoding="utf-8", errors="replace")):
            for rid in re.split(r"\s*,[\s#]*", group):
                found.setdefault(rid, set()).add(path.relative_to(root).as_posix())
    return found


def tracked_text_files(root: Path = ROOT) -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True)
    names = [n for n in out.stdout.decode().split("\0") if n]
    text = []
    for name in names:
        path = root / name
        if not path.is_file():
            continue
        head = path.read_bytes()[:8192]
        if b"\0" in head:
            continue                      # binary (PNG, PDF, parquet)
        text.append(name)
    return text


def offending(root: Path = ROOT) -> list[str]:
    hits = []
    for name in tracked_text_files(root):
        if name in ALLOWED:
            continue
        text = (root / name).read_text(encoding="utf-8", errors="replace")
        for needle in FORBIDDEN:
            for m in re.finditer(re.escape(needle), text):
                line = text.count("\n", 0, m.start()) + 1
                hits.append(f"{name}:{line}: {needle}")
    return hits


def test_sources_file_is_well_formed():
    rows = read_rows()
    assert len(rows) > 50
    assert problems(rows) == []


def test_checks_catch_bad_rows():
    good = dict(zip(COLUMNS, ["ree-x-2024", "rare earths", "f", "1", "t", "2024", "s",
                              "https://example.org/a", "M-H", "scenarios/reference.yaml: x", ""], strict=True))
    assert problems([good]) == []
    assert problems([good, dict(good)]) == ["line 3: duplicate id ree-x-2024"]
    assert problems([{**good, "address": "../shared/data/x.md"}])
    assert problems([{**good, "confidence": "high"}])
    assert problems([{**good, "source": " "}])
    assert problems([{**good, "id": "Bad Id"}])


def test_every_reference_names_a_row():
    ids = {row["id"] for row in read_rows()}
    missing = {rid: sorted(files) for rid, files in references().items() if rid not in ids}
    assert missing == {}


def test_reference_scan_finds_references(tmp_path):
    (tmp_path / "README.md").write_text("see (data/sources.csv: ree-a-2024)\n")
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "x.yaml").write_text("a: 1  # source: X (data/sources.csv: nope-1, b-2,\n# c-3)\n")
    assert references(tmp_path) == {"ree-a-2024": {"README.md"}, "nope-1": {"scenarios/x.yaml"},
                                    "b-2": {"scenarios/x.yaml"}, "c-3": {"scenarios/x.yaml"}}


def test_no_pointer_to_external_notes_or_machine_paths():
    assert offending() == []


@pytest.mark.parametrize("needle", FORBIDDEN)
def test_forbidden_strings_are_detected(tmp_path, needle):
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "a.md").write_text(f"figures: see {needle}data\n")
    subprocess.run(["git", "add", "a.md"], cwd=tmp_path, check=True)
    assert offending(tmp_path) == [f"a.md:1: {needle}"]
