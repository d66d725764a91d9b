"""File-system primitives for run folders that other people hand us.

- Writing: every file goes to a temporary name in its own folder and is renamed into
  place. A rename replaces a symlink planted at the destination itself, never the file it
  points to, so nothing outside the folder is written through a link.
- Renaming a finished folder into place never replaces one that appeared meanwhile
  (``rename_no_replace``: Linux's RENAME_NOREPLACE, else a checked rename).
- Reading: only regular files, opened without following a final symlink and without
  blocking on a FIFO, up to a size limit.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import re
import stat
import tempfile
from pathlib import Path

_RENAME_NOREPLACE = 1
_AT_FDCWD = -100


class UnsafePath(OSError):
    """A path that is not a regular file or folder of our own (a symlink, FIFO, device ...)."""


def _renameat2():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        func = libc.renameat2
    except (OSError, AttributeError):
        return None
    func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return func


_RENAMEAT2 = _renameat2()


def rename_no_replace(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    """Rename ``src`` to ``dst``; raise ``FileExistsError`` if ``dst`` exists (even a
    link or an empty folder), atomically where the kernel supports it."""
    if _RENAMEAT2 is not None:
        if _RENAMEAT2(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE) == 0:
            return
        err = ctypes.get_errno()
        if err not in (errno.ENOSYS, errno.EINVAL):  # EINVAL: a file system without the flag
            raise OSError(err, os.strerror(err), os.fspath(dst))
    if os.path.lexists(dst):
        raise FileExistsError(errno.EEXIST, "already exists", os.fspath(dst))
    os.rename(src, dst)


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_text(path: str | os.PathLike, text: str) -> None:
    """``write_bytes`` of ``text`` in UTF-8."""
    write_bytes(path, text.encode("utf-8"))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def read_regular(path: str | os.PathLike, limit: int) -> bytes:
    """The bytes of a regular file at most ``limit`` bytes long; ``UnsafePath`` for a
    symlink, FIFO, device or folder, and for a file that is too large."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafePath(errno.ELOOP, "is a symbolic link; refusing to follow it", os.fspath(path)) from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafePath(errno.EINVAL, "is not a regular file", os.fspath(path))
        if info.st_size > limit:
            raise UnsafePath(errno.EFBIG, f"is {info.st_size:,} bytes; the limit is {limit:,}", os.fspath(path))
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise UnsafePath(errno.EFBIG, f"is larger than {limit:,} bytes", os.fspath(path))
    return data


_ERRNO_IN_TEXT = re.compile(r"\[errno (\d+)\]", re.IGNORECASE)


def reason(exc: OSError) -> str:
    """Why ``exc`` happened, in the system's words ("No space left on device"), also for
    errors that carry the number only in their text (pyarrow: "Detail: [errno 28] ...")."""
    found = _ERRNO_IN_TEXT.search(str(exc))
    if found:
        return os.strerror(int(found.group(1)))
    return exc.strerror or str(exc)


def real_folder(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a folder itself, not a symlink to one."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False
