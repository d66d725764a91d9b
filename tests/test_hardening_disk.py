"""A full disk (ENOSPC) while a summary run streams replications to its temporary folder,
or while the run folder is written, is one line and exit 2; nothing is left behind
(issue 13: "a full TMPDIR in summary mode")."""
from __future__ import annotations

import errno
import io
import os
import shutil
import subprocess
import sys

import pytest

from helpers import TINY, cli


class _FullDisk:
    """``open`` for the summary sink's block files on a disk that takes ``room`` bytes in
    all and holds at most ``files`` files; past either, the write or the open fails with
    ENOSPC as the kernel's would. Buffered like a real file, so a close can fail too."""

    def __init__(self, room: int, files: int = 1_000):
        self.room, self.files = room, files

    def __call__(self, path, mode="r", *args, **kwargs):
        if self.files <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        self.files -= 1
        disk = self

        class Raw(io.FileIO):
            def write(self, data):
                if len(data) > disk.room:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                disk.room -= len(data)
                return super().write(data)

        return io.BufferedRandom(Raw(path, "w+"), buffer_size=1 << 20)  # a large buffer: the close writes


@pytest.fixture
def tiny_run(tmp_path, monkeypatch):
    """A scenario file and a private TMPDIR (the summary sink's parent folder)."""
    import tempfile

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    (tmp_path / "s.yaml").write_text(TINY)
    return tmp_path


def _leftovers(folder) -> list[str]:
    return sorted(os.listdir(folder))


# TINY: 12 daily series over 30 days of float64, 2,880 bytes a replication
@pytest.mark.parametrize("disk, replications", [
    pytest.param(_FullDisk(room=3 * 2_880), 10, id="full-after-three-replications"),
    pytest.param(_FullDisk(room=10**9, files=0), 10, id="no-inode-left-for-the-block-file"),
    pytest.param(_FullDisk(room=0), 1, id="full-when-the-buffer-is-flushed-before-the-quantiles"),
])
def test_a_full_tmpdir_in_summary_mode_is_one_line_exit_2_and_no_temp_folder(tiny_run, monkeypatch, disk, replications):
    import sim.experiment

    monkeypatch.setattr(sim.experiment, "open", disk, raising=False)
    result = cli("run", tiny_run / "s.yaml", "-n", replications, "--keep", "summary", "--quiet", "--no-report",
                 "--out", tiny_run / "out")
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 2, (result.exception, result.stderr)
    assert isinstance(result.exception, SystemExit)  # no traceback: a clean exit, not an escaped OSError
    assert len(lines) == 1 and "No space left on device" in lines[0] and str(tiny_run / "tmp") in lines[0], lines
    assert "TMPDIR" in lines[0]
    assert _leftovers(tiny_run / "tmp") == []
    assert not (tiny_run / "out").exists()
    assert [p for p in os.listdir(tiny_run) if p.startswith(".out.")] == []


def test_the_python_api_raises_a_user_error_and_cleans_up(tiny_run, monkeypatch):
    import sim
    import sim.experiment
    from sim.errors import ChipsimUserError

    monkeypatch.setattr(sim.experiment, "open", _FullDisk(room=2_880), raising=False)
    with pytest.raises(ChipsimUserError, match="No space left on device"):
        sim.run(sim.load_scenario(tiny_run / "s.yaml"), replications=5, keep="summary", progress=False)
    assert _leftovers(tiny_run / "tmp") == []


def _tiny_filesystems() -> bool:
    """Whether this machine lets an unprivileged user mount a tmpfs in a user namespace."""
    if not sys.platform.startswith("linux") or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                            "mount -t tmpfs -o size=4k tmpfs /mnt 2>/dev/null || mount -t tmpfs -o size=4k tmpfs /tmp"],
                           capture_output=True, timeout=20)
    return probe.returncode == 0


@pytest.mark.skipif(not _tiny_filesystems(), reason="needs unshare and user namespaces to mount a small tmpfs")
@pytest.mark.parametrize("options, where", [
    ("size=8k", "tmpdir"),             # two pages: full after two replications
    ("nr_inodes=2", "tmpdir"),         # the temporary folder fits, its block file does not
    ("size=16k", "out"),               # the run folder itself on a full disk
    ("nr_inodes=4", "out"),
])
def test_a_real_full_filesystem_is_one_line_and_leaves_nothing(tmp_path, options, where):
    """The same on a real 8 KB tmpfs (mounted in a private user and mount namespace)."""
    small = tmp_path / "small"
    small.mkdir()
    (tmp_path / "s.yaml").write_text(TINY)
    out = small / "run" if where == "out" else tmp_path / "out"
    tmpdir = small if where == "tmpdir" else tmp_path
    script = (f'mount -t tmpfs -o {options} tmpfs "{small}" || exit 99; '
              f'TMPDIR="{tmpdir}" "{sys.executable}" -m sim run "{tmp_path / "s.yaml"}" -n 10 --keep summary -q '
              f'--no-pdf --out "{out}"; echo "rc=$?"; echo "left:"; ls -A "{small}"')
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
                          capture_output=True, text=True, timeout=180, env=env)
    status, _, left = proc.stdout.partition("left:")
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert "rc=2" in status, proc.stderr[-3000:]
    assert len(lines) == 1 and os.strerror(errno.ENOSPC) in lines[0], lines
    assert "Detail" not in lines[0] and "errno" not in lines[0]  # pyarrow's wording, not the system's
    assert left.split() == []
    assert not out.exists()


def test_an_error_with_its_number_only_in_the_text_reads_as_the_system_says():
    """pyarrow's "Error writing bytes to file. Detail: [errno 28] ..." is shown as the
    system's own words for errno 28, as any other full disk."""
    from sim.safefs import reason

    assert reason(OSError("Error writing bytes to file. Detail: [errno 28] No space left on device")) == \
        os.strerror(errno.ENOSPC)
    assert reason(OSError(errno.EACCES, os.strerror(errno.EACCES))) == os.strerror(errno.EACCES)
