"""Fixtures shared by the test modules; plain builders are in helpers.py."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers import BROKEN_FIXTURES


@pytest.fixture
def in_tmp(tmp_path, monkeypatch) -> Path:
    """Work inside tmp_path, so problems name files relative to it."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def broken_dir(in_tmp) -> Path:
    """A copy of every broken fixture file (tests/fixtures/broken/), used as the working directory."""
    for path in sorted(BROKEN_FIXTURES.glob("*.yaml")):
        shutil.copy(path, in_tmp / path.name)
    return in_tmp
