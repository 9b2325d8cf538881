"""Where JIT names come from: perf maps and jitdumps found per process (--map, --map-dir,
beside the inputs, /tmp)."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from jitprof.errors import InputError
from jitprof.model import (
    MapHealth,
)
from jitprof.parse import can_fork
from jitprof.symbols.perfmap import PerfMap, load_perf_map, pid_from_map_name

if TYPE_CHECKING:
    from jitprof.symbols.jitdump import JitDump


PRELOAD_BYTES = 4 << 20  # maps this big are parsed while the samples are read


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


@dataclass(slots=True)
class MapFinder:
    """Where maps come from, in order: ``--map`` files, ``--map-dir``, the inputs'
    directories, then ``/tmp``. A ``--map`` whose name has no pid applies to every
    process without a ``--map perf-<pid>.map`` of its own. What the user names always
    wins over what is found: a ``--map`` over any map or jitdump in a directory."""

    maps: Sequence[str] = ()
    map_dirs: Sequence[str] = ()
    search_tmp: bool = True
    strict: bool = False
    jitdumps: Sequence[str] = ()  # --jitdump files (their pid is in their header)
    # False: a JIT frame is named from these maps only, never by the name perf printed
    # (a bundle: perf read /tmp, maybe through a symlink, when it printed the text)
    perf_jit_names: bool = True
    sample_clock: str | None = None  # the samples' clock, when the input tells (perf.data)
    _loaded: dict[str, PerfMap] = field(default_factory=dict)
    _pending: dict[str, Future[PerfMap]] = field(default_factory=dict)
    _dumps: dict[str, JitDump] = field(default_factory=dict)
    _pool: ProcessPoolExecutor | None = None

    def close(self) -> None:
        """Wait for the preload process to go (its manager thread with it: a thread left
        running stops the next load from forking workers)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _load(self, path: str) -> PerfMap:
        pm = self._loaded.get(path)
        if pm is None:
            pending = self._pending.pop(path, None)
            if pending is not None:
                pm = pending.result()
            else:
                pm = load_perf_map(path, strict=self.strict)
            self._loaded[path] = pm
        return pm

    def big_maps(self) -> list[str]:
        """The ``--map`` files worth parsing while the samples are read."""
        return [p for p in self.maps if _size(p) >= PRELOAD_BYTES]

    def load_all(self, paths: Sequence[str]) -> None:
        for p in paths:
            self._load(p)

    def preload(self) -> None:
        """Parse big ``--map`` files in a second process while the main one reads the
        samples (a 1,000,000-line map takes seconds; the reading takes longer): both
        cores work, and the map is ready when the samples are."""
        big = self.big_maps()
        if not big or not can_fork():
            return
        try:
            ctx = multiprocessing.get_context("fork")
            pool = ProcessPoolExecutor(max_workers=1, mp_context=ctx)
        except (ValueError, OSError):  # no fork here: load when needed instead
            return
        for p in big:
            self._pending[p] = pool.submit(load_perf_map, p, self.strict)
        self._pool = pool  # shut down by close() (a shutdown(wait=False) here could not be
        # waited for later: the executor forgets its manager thread)

    def find(self, pid: int, input_dirs: Iterable[str]) -> list[PerfMap]:
        named = [p for p in self.maps if pid_from_map_name(p) == pid]
        if named:
            return [self._load(p) for p in named]
        unnamed = [p for p in self.maps if pid_from_map_name(p) is None]
        if unnamed:  # given by the user: wins over a perf-<pid>.map found beside the input
            return [self._load(p) for p in unnamed]
        dirs = list(self.map_dirs) + list(dict.fromkeys(input_dirs))
        if self.search_tmp:
            dirs.append("/tmp")
        for d in dirs:
            p = os.path.join(d, f"perf-{pid}.map")
            if os.path.isfile(p):
                return [self._load(p)]
        return []

    def map_given(self, pid: int) -> bool:
        """Whether a ``--map`` applies to ``pid`` (then no jitdump is searched for it)."""
        return any(pid_from_map_name(p) in (pid, None) for p in self.maps)

    # -- jitdumps: --jitdump files, then jit-<pid>.dump in --map-dir, beside the inputs,
    # the working directory (node) and /tmp (HHVM); they win over the perf map
    def _dump_dirs(self, input_dirs: Iterable[str]) -> list[str]:
        dirs = list(self.map_dirs) + list(dict.fromkeys(input_dirs))
        if self.search_tmp:  # the places JITs write to
            dirs += [os.getcwd(), "/tmp"]
        return list(dict.fromkeys(dirs))

    def find_jitdump(self, pid: int, input_dirs: Iterable[str]) -> JitDump | None:
        from jitprof.symbols.jitdump import find_jitdump

        for p in self.jitdumps:
            jd = self._load_dump(p)
            if jd.pid == pid:
                return jd
        if self.map_given(pid):  # the user's --map wins over a jitdump found anywhere
            return None
        p2 = find_jitdump(pid, self._dump_dirs(input_dirs))
        return self._load_dump(p2) if p2 is not None else None

    def has_jitdumps(self, input_dirs: Iterable[str]) -> bool:
        """Whether any jitdump may be used (then the samples' times are kept)."""
        if self.jitdumps:
            return True
        for d in self._dump_dirs(input_dirs):
            try:
                if any(n.startswith("jit-") and n.endswith(".dump") for n in os.listdir(d)):
                    return True
            except OSError:
                continue
        return False

    def _load_dump(self, path: str) -> JitDump:
        from jitprof.symbols.jitdump import load_jitdump

        jd = self._dumps.get(path)
        if jd is None:
            jd = self._dumps[path] = load_jitdump(path)
        return jd

    def check_explicit(self) -> None:
        """Fail early on a --map that cannot be read or a --map-dir that is not one."""
        for p in self.maps:
            try:
                with open(p, "rb"):
                    pass
            except OSError as e:
                raise InputError(p, f"cannot read map: {e.strerror}") from None
        for d in self.map_dirs:
            if not os.path.isdir(d):
                raise InputError(d, "--map-dir is not a directory")
        for p in self.jitdumps:
            self._load_dump(p)


def _map_health(pm: PerfMap, pid: int) -> MapHealth:
    return MapHealth(pm.path, pid, pm.lines, len(pm), pm.bad, pm.overlapping, pm.zero_size,
                     pm.mtime, [str(d) for d in pm.diagnostics])

