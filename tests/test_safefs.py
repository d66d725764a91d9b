"""File-system primitives: writes never go through a planted symlink, a finished folder
never replaces one that appeared meanwhile, reads refuse links, FIFOs and big files."""
from __future__ import annotations

import os
import threading

import pytest

from sim.safefs import UnsafePath, read_regular, real_folder, rename_no_replace, write_text


def test_write_replaces_a_planted_symlink_not_its_target(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "briefing.html").symlink_to(outside)
    write_text(folder / "briefing.html", "new")
    assert outside.read_text() == "precious"
    assert not (folder / "briefing.html").is_symlink() and (folder / "briefing.html").read_text() == "new"
    assert sorted(p.name for p in folder.iterdir()) == ["briefing.html"]  # no temporary left behind


def test_rename_no_replace_refuses_an_existing_folder_even_an_empty_one(tmp_path):
    src, dst = tmp_path / "new", tmp_path / "out"
    src.mkdir()
    (src / "a").write_text("1")
    dst.mkdir()  # plain os.rename would replace an empty folder
    with pytest.raises(FileExistsError):
        rename_no_replace(src, dst)
    assert (src / "a").exists() and list(dst.iterdir()) == []
    dst.rmdir()
    rename_no_replace(src, dst)
    assert (dst / "a").read_text() == "1" and not src.exists()


def test_read_regular_refuses_links_fifos_folders_and_big_files(tmp_path):
    good = tmp_path / "manifest.json"
    good.write_text("{}")
    assert read_regular(good, 10) == b"{}"
    link = tmp_path / "link.json"
    link.symlink_to(good)
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    for bad in (link, fifo, tmp_path):
        with pytest.raises(UnsafePath):
            read_regular(bad, 100)
    with pytest.raises(UnsafePath):
        read_regular(good, 1)


def test_reading_a_fifo_does_not_hang(tmp_path):
    fifo = tmp_path / "manifest.json"
    os.mkfifo(fifo)
    done = threading.Event()

    def attempt():
        try:
            read_regular(fifo, 100)
        except UnsafePath:
            done.set()

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(5)
    assert done.is_set()


def test_real_folder(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "l").symlink_to(tmp_path / "d")
    assert real_folder(tmp_path / "d") and not real_folder(tmp_path / "l") and not real_folder(tmp_path / "x")
