"""Facts about live processes from /proc, and files in shared directories opened safely.

Safety policy for files in world-writable places (``/tmp``, a container's ``/tmp``): the
directory is opened with ``O_NOFOLLOW`` and the file relative to it with ``O_NOFOLLOW |
O_NONBLOCK`` (a symlink is refused, a FIFO does not block the open), then the opened
descriptor is checked with ``fstat`` to be a regular file. Nothing is ever opened through
a symbolic link, and every later check (owner, age) is made on the descriptor, so the file
checked is the file read.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass, field

from jitprof.errors import RecordError, UnsafeFileError
from jitprof.inputs.procfs import start_time


def process_exists(pid: int) -> bool:
    return pid > 0 and os.path.isdir(f"/proc/{pid}")


@dataclass(slots=True)
class ProcessInfo:
    """What /proc says about one process (read once; the process may exit later)."""

    pid: int
    nspid: int  # the pid inside the process's own pid namespace (NStgid's last value)
    uids: tuple[int, ...]  # real, effective, saved, filesystem
    start_time: float | None  # epoch seconds (clock-tick resolution, btime to 1 s)
    cmdline: bytes
    comm: str
    cwd: str | None
    status: bytes = b""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def in_other_pid_namespace(self) -> bool:
        return self.nspid != self.pid

    def argv(self) -> list[str]:
        return [a.decode("utf-8", "replace") for a in self.cmdline.split(b"\0") if a]


def read_process(pid: int) -> ProcessInfo:
    """Read /proc/PID; ``RecordError`` if it is not running here."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            status = f.read()
        with open(f"/proc/{pid}/stat", "rb") as f:
            st = f.read()
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            cmdline = b""
    except FileNotFoundError:
        raise no_such_process(pid) from None
    except ProcessLookupError:
        raise no_such_process(pid) from None
    fields: dict[bytes, list[bytes]] = {}
    for line in status.splitlines():
        k, _, v = line.partition(b":")
        fields[k] = v.split()
    uids = tuple(int(x) for x in fields.get(b"Uid", [])) or (os.getuid(),)
    ns = fields.get(b"NStgid") or fields.get(b"Tgid") or [str(pid).encode()]
    nspid = int(ns[-1])
    comm = b" ".join(fields.get(b"Name", [])).decode("utf-8", "replace")
    start = start_time(st)
    try:
        cwd: str | None = os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        cwd = None
    return ProcessInfo(pid, nspid, uids, start, cmdline, comm, cwd, status)


def no_such_process(pid: int) -> RecordError:
    return RecordError(f"pid {pid}", "no such process (is it running on this host? check "
                       f"with: ps -p {pid})")


def children(pid: int) -> list[int]:
    """Direct children of every thread of ``pid`` (empty if it is gone)."""
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for t in tasks:
        try:
            with open(f"/proc/{pid}/task/{t}/children", "rb") as f:
                out.extend(int(x) for x in f.read().split())
        except (OSError, ValueError):
            continue
    return out


def descendants(pid: int) -> list[int]:
    """``pid``'s children, grandchildren... (as seen now)."""
    seen: list[int] = []
    todo = [pid]
    while todo:
        for c in children(todo.pop()):
            if c not in seen:
                seen.append(c)
                todo.append(c)
    return seen


def read_small(path: str) -> bytes | None:
    """A /proc file's bytes, or None if the process is gone or it is unreadable."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


_MAGIC_DIR = re.compile(r"/proc/\d+/(?:cwd|root)")


def open_in_dir(directory: str, name: str) -> int:
    """Open ``directory/name`` for reading without following a symlink at either step
    (a symlinked ``directory`` itself is refused too, but the magic ``/proc/PID/root``
    link before it is followed, as it must be). Returns the descriptor of a regular file.

    ``FileNotFoundError`` if there is no such file; ``UnsafeFileError`` if it is a symlink
    or not a regular file."""
    dflags = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
    if not _MAGIC_DIR.fullmatch(directory):  # /proc/PID/cwd and /root: the kernel's links
        dflags |= os.O_NOFOLLOW
    path = os.path.join(directory, name)
    try:
        dfd = os.open(directory, dflags)
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.ENOTDIR):
            raise UnsafeFileError(directory, "is a symbolic link or not a directory: not "
                                  "followed") from None
        raise
    try:
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                         dir_fd=dfd)
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise UnsafeFileError(path, "is a symbolic link: jitprof never follows links "
                                      "in shared directories (it could point anywhere)") from None
            raise
    finally:
        os.close(dfd)
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise UnsafeFileError(path, "is not a regular file: not read")
    return fd


def same_file(path: str, st: os.stat_result) -> bool:
    """Whether ``path`` (not followed if a link) is still the file ``st`` describes."""
    try:
        now = os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    return (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino)


def perf_event_paranoid() -> int | None:
    raw = read_small("/proc/sys/kernel/perf_event_paranoid")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


CAP_SYS_ADMIN = 21
CAP_SYS_PTRACE = 19
CAP_PERFMON = 38


def effective_caps() -> int:
    raw = read_small("/proc/self/status") or b""
    for line in raw.splitlines():
        if line.startswith(b"CapEff:"):
            return int(line.split()[1], 16)
    return 0
