#!/usr/bin/env python3
"""Write a deterministic, HHVM-shaped perf map and `perf script` text for benchmarking jitprof.

Stdlib only.  Everything is drawn from ``random.Random(seed)``, so the same arguments give
byte-identical files.  The sample file is streamed in batches (memory stays small whatever
``--samples`` is); the map is built in two compact arrays first because the stacks point
into it.

What it writes (see benchmarks/README.md for the scenario):

``DIR/perf-4242.map``
    ``"%x %x %s\\n"`` lines (HHVM's ``recordPerfMap`` format) in three anonymous JIT regions.
    ~2% ``HHVM::<stub>`` names, the rest
    ``PHP::/var/www/src/Mod<k>/File<j>.php::Class<j>::method<i>`` (a few with ``$prologue``).
    5% of the lines reuse an earlier line's range (same start, or a start inside it) with a
    different name, as with ``Eval.EnableReusableTC``.

``DIR/perf.script``
    perf 6.1 default ``perf script --show-mmap-events`` text (plus the COMM/FORK task lines
    that ``--show-task-events`` adds): process ``hhvm`` pid 4242, worker threads 4243...,
    samples with ~12 callchain frames.  JIT frames are printed the way perf prints them when
    the map was not there at ``perf script`` time (HHVM unlinks its map on exit; the map
    written here is the snapshot):  ``[unknown] (/tmp/perf-4242.map)`` inside the two
    regions that have a ``//anon`` MMAP2 record, ``[unknown] ([unknown])`` inside the third
    region, whose MMAP2 record is missing (lost event), so only the map can name it.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import os
import random
import sys
import time
from array import array

PID = 4242
COMM = "hhvm"
HHVM_PATH = "/usr/local/bin/hhvm"
LIBC_PATH = "/usr/lib/x86_64-linux-gnu/libc.so.6"
MAP_DSO = f"/tmp/perf-{PID}.map"

# (start, MMAP2 record present?).  Region 2 has no MMAP2 line -> frames print "([unknown])".
REGION_STARTS = (0x7F0000000000, 0x7F0100000000, 0x7F0200000000)
REGION_HAS_MMAP = (True, True, False)
REGION_WEIGHTS = (0.6, 0.3, 0.1)  # share of fresh map lines that land in each region

# hhvm's text mapping: perf 6.1 prints file offsets for frames in it (perf-formats.md 4.3).
HHVM_MAP_START = 0x55D0C8A00000
HHVM_TEXT_PGOFF = 0x1A00000
HHVM_TEXT_LEN = 0x5E00000
LIBC_MAP_START = 0x7F8E2A426000
LIBC_PGOFF = 0x26000
LIBC_LEN = 0x156000

STUBS = (
    "enterTCExit",
    "enterTCHelper",
    "enterTCAtPrologueHelper",
    "handleSRHelper",
    "endCatchHelper",
    "unknownExceptionHandler",
    "funcPrologueRedispatch",
    "fcallHelperThunk",
    "funcBodyHelperThunk",
    "functionEnterHelper",
    "functionSurprisedOrStackOverflow",
    "retHelper",
    "genRetHelper",
    "asyncGenRetHelper",
    "retInlHelper",
    "debuggerRetHelper",
    "immutableBindCallStub",
    "fcallUnpackHelper",
    "decRefGeneric",
    "callToExit",
    "throwSwitchMode",
    "freeLocalsHelpers",
    "resumeInterpHelpers",
)

# C++ frames of the hhvm binary, as perf 6.1 demangles them (no parameter lists, template
# arguments kept, so spaces, commas and parentheses do occur).
CPP_BUILTINS = (
    "HPHP::f_sort",
    "HPHP::f_usort",
    "HPHP::f_ksort",
    "HPHP::f_array_map",
    "HPHP::f_array_merge",
    "HPHP::f_array_key_exists",
    "HPHP::f_in_array",
    "HPHP::f_str_replace",
    "HPHP::f_preg_match",
    "HPHP::f_preg_replace",
    "HPHP::f_json_encode",
    "HPHP::f_json_decode",
    "HPHP::f_implode",
    "HPHP::f_explode",
    "HPHP::f_sprintf",
    "HPHP::f_substr",
    "HPHP::f_strtolower",
    "HPHP::f_count",
    "HPHP::f_serialize",
    "HPHP::f_unserialize",
    "HPHP::f_hash",
    "HPHP::f_md5",
    "HPHP::HHVM_FUNCTION_array_filter",
    "HPHP::c_Closure_ns_fromCallable",
)
CPP_HELPERS = (
    "HPHP::VanillaDict::set<HPHP::TypedValue, long>",
    "HPHP::VanillaDict::SetIntMove",
    "HPHP::VanillaDict::Grow",
    "HPHP::VanillaVec::Append",
    "HPHP::StringData::append",
    "HPHP::StringData::MakeUncounted",
    "HPHP::tvDecRefGeneric",
    "HPHP::MemoryManager::mallocSmallSizeSlow",
    "HPHP::MemoryManager::freeBigSize",
    "HPHP::req::vector<HPHP::TypedValue, HPHP::req::Allocator<HPHP::TypedValue> >::push_back",
    "HPHP::(anonymous namespace)::zend_sort<HPHP::SortData, HPHP::ElmUCompare<HPHP::KeyAccessor> >",
    "HPHP::JSON_parser",
    "HPHP::VariableSerializer::serializeArray",
    "HPHP::pcre_get_compiled_regex_cache",
    "HPHP::jit::svcreq::handleServiceRequest",
    "HPHP::ObjectData::destructor",
    "std::_Hashtable<HPHP::StringData const*, std::pair<HPHP::StringData const* const, int>, "
    "std::allocator<std::pair<HPHP::StringData const* const, int> > >::find",
)
BOTTOMS = (  # root-side C++ frames, leaf first (frame-pointer unwinding skips some callers);
    # the root below them is always __libc_start_call_main
    ("HPHP::ExecutionContext::invokeFunc", "HPHP::hphp_invoke", "HPHP::execute_program"),
    (
        "HPHP::jit::enterTC",
        "HPHP::HttpRequestHandler::handleRequest",
        "HPHP::JobQueueWorker<std::shared_ptr<HPHP::Transport>, HPHP::Server*, true, false, "
        "HPHP::JobQueueDropVMStack>::start",
    ),
    (
        "HPHP::ServerWorker<std::shared_ptr<HPHP::Transport>, HPHP::Server::ThreadMode>::doJob",
        "HPHP::AsyncFuncImpl::ThreadFunc",
    ),
    ("HPHP::jit::enterTC", "HPHP::ExecutionContext::resumeAsyncFunc"),
)
KERNEL_TOPS = (  # leaf first
    (
        "clear_page_erms",
        "clear_huge_page",
        "__handle_mm_fault",
        "handle_mm_fault",
        "do_user_addr_fault",
        "exc_page_fault",
        "asm_exc_page_fault",
    ),
    (
        "copy_user_enhanced_fast_string",
        "_copy_to_user",
        "tcp_recvmsg",
        "inet_recvmsg",
        "__sys_recvfrom",
        "do_syscall_64",
        "entry_SYSCALL_64_after_hwframe",
    ),
    (
        "native_queued_spin_lock_slowpath",
        "futex_wait",
        "do_futex",
        "__x64_sys_futex",
        "do_syscall_64",
        "entry_SYSCALL_64_after_hwframe",
    ),
    ("irqentry_exit_to_user_mode", "asm_sysvec_apic_timer_interrupt"),
)
LIBC_LEAVES = ("__memmove_avx_unaligned_erms", "malloc", "__strlen_avx2", "_int_free")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="output directory (created if missing)")
    p.add_argument("--samples", type=int, default=1_000_000, help="samples to write")
    p.add_argument("--map-lines", type=int, default=1_000_000, help="perf map lines to write")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--shapes", type=int, default=4000, help="distinct call paths (Zipf ranked)")
    p.add_argument("--threads", type=int, default=8, help="worker threads besides the main one")
    p.add_argument("--high-card", action="store_true",
                   help="high cardinality: every sample a fresh random walk over the whole "
                   "map's call graph, a distinct leaf address per sample, return addresses "
                   "per call site (no --shapes)")
    p.add_argument("--stats", action="store_true",
                   help="--high-card: also count distinct stacks, call paths and frame lines "
                   "(sets of hashes: memory grows with them)")
    return p.parse_args(argv)


# --------------------------------------------------------------------------- perf map


class JitMap:
    """The generated map: parallel arrays in file order, plus the region of each line."""

    def __init__(self) -> None:
        self.start = array("Q")
        self.size = array("I")
        self.region = array("B")
        self.fresh: list[int] = []  # indices of non-reuse lines (what stacks point into)
        self.region_end = [s for s in REGION_STARTS]


def php_name(f: int) -> str:
    j = f // 8  # 8 methods per class/file
    k = j // 40  # 40 files per module
    return f"PHP::/var/www/src/Mod{k}/File{j}.php::Class{j}::method{f % 8}"


def write_map(path: str, n: int, rng: random.Random) -> JitMap:
    jm = JitMap()
    n_funcs = max(64, n * 2 // 5)  # ~2.5 lines per PHP function (main+cold, retranslations)
    cursor = list(REGION_STARTS)
    cum_region = list(itertools.accumulate(REGION_WEIGHTS))
    rand = rng.random
    randrange = rng.randrange
    out: list[str] = []
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for i in range(n):
            r = rand()
            if i >= 20 and r < 0.05:
                # Reuse: same start or a start inside an earlier fresh line, different name.
                base = jm.fresh[randrange(len(jm.fresh))]
                bstart, bsize = jm.start[base], jm.size[base]
                if rand() < 0.5:
                    start = bstart
                else:
                    start = bstart + (randrange(bsize // 16) * 16 if bsize >= 32 else 0)
                room = bstart + bsize - start
                size = max(0x10, min(room, 0x40 + randrange(0x800)))
                reg = jm.region[base]
                name = (
                    php_name(randrange(n_funcs))
                    if rand() > 0.02
                    else ("HHVM::" + STUBS[randrange(len(STUBS))])
                )
            else:
                reg = bisect.bisect_left(cum_region, rand() * cum_region[-1])
                # Log-uniform 0x40..0x2000: many small translations, a few big ones.
                size = int(0x40 * (128 ** rand())) & ~0xF or 0x40
                start = cursor[reg]
                cursor[reg] = start + size + (randrange(4) * 16 if rand() < 0.2 else 0)
                jm.fresh.append(i)
                if rand() < 0.02:
                    name = "HHVM::" + STUBS[randrange(len(STUBS))]
                else:
                    name = php_name(randrange(n_funcs))
                    if rand() < 0.03:
                        name += "$prologue"
            jm.start.append(start)
            jm.size.append(size)
            jm.region.append(reg)
            out.append(f"{start:x} {size:x} {name}\n")
            if len(out) >= 20000:
                f.write("".join(out))
                out.clear()
        f.write("".join(out))
    jm.region_end = cursor
    return jm


# --------------------------------------------------------------------------- stacks


def frame_line(addr: int, text: str) -> str:
    return f"\t{addr:16x} {text}\n"


class Frames:
    """Builds callchain line strings; every node gets stable call-site offsets."""

    def __init__(self, jm: JitMap, rng: random.Random) -> None:
        self.jm = jm
        self.rng = rng
        self.cpp_off: dict[str, int] = {}
        # Lay out the C++ functions in hhvm's text: file offset of each function start.
        off = HHVM_TEXT_PGOFF + 0x40000
        for name in CPP_BUILTINS + CPP_HELPERS + tuple(n for b in BOTTOMS for n in b):
            if name not in self.cpp_off:
                self.cpp_off[name] = off
                off += 0x200 + rng.randrange(0x8000) & ~0xF
        self.callsites: dict[tuple[object, object], int] = {}

    def jit_text(self, idx: int) -> str:
        return (
            "[unknown] (" + MAP_DSO + ")"
            if REGION_HAS_MMAP[self.jm.region[idx]]
            else ("[unknown] ([unknown])")
        )

    def jit(self, idx: int, off: int) -> str:
        return frame_line(self.jm.start[idx] + off, self.jit_text(idx))

    def jit_callsite(self, idx: int, child: object) -> str:
        key = (idx, child)
        off = self.callsites.get(key)
        if off is None:
            size = self.jm.size[idx]
            off = self.callsites[key] = 5 + self.rng.randrange(max(1, size - 5))
        return self.jit(idx, off)

    def jit_leaf(self, idx: int) -> str:
        size = self.jm.size[idx]
        return self.jit(idx, self.rng.randrange(min(size, 0x200)))

    def cpp(self, name: str, off: int) -> str:
        return frame_line(self.cpp_off[name] + off, f"{name}+{off:#x} ({HHVM_PATH})")

    def cpp_callsite(self, name: str, child: object) -> str:
        key = (name, child)
        off = self.callsites.get(key)
        if off is None:
            off = self.callsites[key] = 0x10 + self.rng.randrange(0x300)
        return self.cpp(name, off)

    def cpp_leaf(self, name: str) -> str:
        return self.cpp(name, 0x4 + self.rng.randrange(0x180))


def kernel_lines(chain: tuple[str, ...], rng: random.Random) -> list[str]:
    lines = []
    for name in chain:
        addr = 0xFFFFFFFF81000000 + (hash_name(name) % 0x1000000)
        off = 0x7 + (hash_name(name + "off") % 0x120)
        lines.append(frame_line(addr + off, f"{name}+{off:#x} ([kernel.kallsyms])"))
    return lines


def hash_name(s: str) -> int:
    """A stable (not PYTHONHASHSEED-dependent) small hash."""
    h = 2166136261
    for ch in s.encode():
        h = ((h ^ ch) * 16777619) & 0xFFFFFFFF
    return h


def build_shapes(jm: JitMap, n_shapes: int, rng: random.Random) -> tuple[list[list[str]], dict]:
    """Return, per Zipf rank, a list of sample bodies (callchain text incl. the blank line).

    Shapes are random walks over a random call graph (so they share root-side prefixes, as
    real profiles do).  Head shapes get up to 16 variants that differ in the leaf address.
    """
    fr = Frames(jm, rng)
    fresh = jm.fresh
    # The JIT code that ever runs: up to 25k fresh map lines (regions in REGION_WEIGHTS share).
    n_hot = min(len(fresh), 25000)
    hot = rng.sample(fresh, n_hot) if n_hot else []
    entries = hot[:60]
    callees: dict[object, list[object]] = {}
    cpp_leaf_pool = CPP_BUILTINS + CPP_HELPERS

    def callees_of(node: object) -> list[object]:
        c = callees.get(node)
        if c is None:
            c = []
            for _ in range(rng.randrange(2, 7)):
                if rng.random() < 0.93 and hot:
                    c.append(hot[rng.randrange(n_hot)])
                else:
                    c.append(CPP_BUILTINS[rng.randrange(len(CPP_BUILTINS))])
            callees[node] = c
        return c

    libc_root = frame_line(0x2724A, f"__libc_start_call_main+0x7a ({LIBC_PATH})")
    shapes: list[list[str]] = []
    seen: set[tuple] = set()
    stats = {"frames": 0, "jit_frames": 0, "bodies": 0}
    attempts = 0
    while len(shapes) < n_shapes and attempts < n_shapes * 20:
        attempts += 1
        bottom = BOTTOMS[rng.randrange(len(BOTTOMS))]
        entry = entries[rng.randrange(len(entries))] if entries else None
        depth = rng.randrange(6, 15)
        path: list[object] = []
        node: object = entry
        if entry is not None:
            path.append(entry)
        while len(path) < depth and isinstance(node, int):
            node = rng.choice(callees_of(node))
            path.append(node)
        # A builtin in the middle of the path calls helpers, not PHP.
        if isinstance(path[-1] if path else None, str) and rng.random() < 0.5:
            path.append(CPP_HELPERS[rng.randrange(len(CPP_HELPERS))])
        kernel = KERNEL_TOPS[rng.randrange(len(KERNEL_TOPS))] if rng.random() < 0.12 else ()
        libc_leaf = LIBC_LEAVES[rng.randrange(len(LIBC_LEAVES))] if rng.random() < 0.03 else None
        key = (bottom, tuple(path), kernel, libc_leaf)
        if key in seen:
            continue
        seen.add(key)

        rank = len(shapes)
        n_var = 16 if rank < 50 else 8 if rank < 300 else 3 if rank < 1500 else 1
        # Non-leaf lines are fixed per (caller, callee); only the leaf line varies.
        fixed: list[str] = []  # root-side part, printed after the leaf-side part
        for i in range(len(path) - 1):
            parent, child = path[i], path[i + 1]
            if isinstance(parent, int):
                fixed.append(fr.jit_callsite(parent, child))
            else:
                fixed.append(fr.cpp_callsite(parent, child))
        fixed.reverse()
        low: list[str] = []
        prev: object = path[0] if path else "HHVM::enterTCHelper"
        for name in bottom:
            low.append(fr.cpp_callsite(name, prev))
            prev = name
        low.append(libc_root)
        tail = "".join(fixed) + "".join(low) + "\n"
        top = "".join(kernel_lines(kernel, rng)) if kernel else ""
        bodies = []
        leaf = path[-1] if path else None
        for _ in range(n_var):
            parts = [top]
            if libc_leaf:
                off = 0x10 + rng.randrange(0x100)
                addr = 0xA0000 + (hash_name(libc_leaf) % 0x90000) + off
                parts.append(frame_line(addr, f"{libc_leaf}+{off:#x} ({LIBC_PATH})"))
            if isinstance(leaf, int):
                parts.append(fr.jit_leaf(leaf))
            elif isinstance(leaf, str):
                parts.append(fr.cpp_leaf(leaf))
            else:
                parts.append(fr.cpp_leaf(cpp_leaf_pool[rng.randrange(len(cpp_leaf_pool))]))
            parts.append(tail)
            bodies.append("".join(parts))
        shapes.append(bodies)
        n_frames = len(path) + len(bottom) + 1 + len(kernel) + (1 if libc_leaf else 0)
        n_jit = sum(1 for x in path if isinstance(x, int))
        stats["frames"] += n_frames
        stats["jit_frames"] += n_jit
        stats["bodies"] += n_var
    return shapes, stats


# --------------------------------------------------------------------------- perf script


def fmt_time(us: int) -> str:
    return f"{us // 1_000_000}.{us % 1_000_000:06d}"


def header_block(jm: JitMap, tids: list[int], t0_us: int) -> list[str]:
    """COMM/MMAP/MMAP2/FORK lines as perf script --show-mmap-events --show-task-events."""
    lines = [
        "swapper     0     0.000000: PERF_RECORD_MMAP -1/0: [0xffffffff81000000(0x1276f48) "
        "@ 0xffffffff81000000]: x [kernel.kallsyms]_text\n"
    ]
    t = t0_us - 400_000

    def pre(tid: int) -> str:
        nonlocal t
        t += 37
        return f"{COMM} {tid:5d} {fmt_time(t):>12}: "

    lines.append(pre(PID) + f"PERF_RECORD_COMM exec: {COMM}:{PID}/{PID}\n")
    lines.append(
        pre(PID) + f"PERF_RECORD_MMAP2 {PID}/{PID}: [{HHVM_MAP_START:#x}({HHVM_TEXT_LEN:#x}) "
        f"@ {HHVM_TEXT_PGOFF:#x} fe:00 1311234 0]: r-xp {HHVM_PATH}\n"
    )
    lines.append(
        pre(PID) + f"PERF_RECORD_MMAP2 {PID}/{PID}: [{LIBC_MAP_START:#x}({LIBC_LEN:#x}) "
        f"@ {LIBC_PGOFF:#x} fe:00 339380 0]: r-xp {LIBC_PATH}\n"
    )
    for reg, start in enumerate(REGION_STARTS):
        if not REGION_HAS_MMAP[reg]:
            continue
        length = max(0x200000, (jm.region_end[reg] - start + 0x1FFFFF) & ~0x1FFFFF)
        # Kernel-emitted anon mappings carry pgoff == start (perf-formats.md 4.5).
        lines.append(
            pre(PID) + f"PERF_RECORD_MMAP2 {PID}/{PID}: [{start:#x}({length:#x}) @ {start:#x} "
            f"00:00 0 0]: rwxp //anon\n"
        )
    for tid in tids:
        if tid == PID:
            continue
        lines.append(pre(PID) + f"PERF_RECORD_FORK({PID}:{tid}):({PID}:{PID})\n")
        lines.append(pre(tid) + f"PERF_RECORD_COMM: {COMM}:{PID}/{tid}\n")
    return lines


def write_script(
    path: str,
    jm: JitMap,
    shapes: list[list[str]],
    n_samples: int,
    n_threads: int,
    rng: random.Random,
) -> int:
    tids = [PID] + [PID + 1 + i for i in range(n_threads)]
    tid_weights = [0.5] + [1.0] * n_threads  # the main thread mostly waits
    cum_tid = list(itertools.accumulate(tid_weights))
    # Zipf(1.1) over shape ranks.
    cum_shape = list(itertools.accumulate(1.0 / (r + 1) ** 1.1 for r in range(len(shapes))))
    t_us = 1_234_000_000
    # cpu-clock at -F 1000: period ~1001001 ns; a late tick now and then doubles it.
    periods = [1001001] * 49 + [2002002]
    prefix = {tid: f"{COMM} {tid:5d} " for tid in tids}
    suffix = {p: f": {p:10d} cpu-clock: \n" for p in set(periods)}
    written = 0
    n_lines = 0
    lines_per_shape = [[b.count("\n") for b in bodies] for bodies in shapes]
    jit_per_shape = [[b.count("[unknown] (") for b in bodies] for bodies in shapes]
    n_frames = n_jit = 0
    with open(path, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as f:
        head = header_block(jm, tids, t_us)
        f.write("".join(head))
        n_lines += len(head)
        batch = 20000
        choices = rng.choices
        rand = rng.random
        while written < n_samples:
            k = min(batch, n_samples - written)
            ranks = choices(range(len(shapes)), cum_weights=cum_shape, k=k)
            ts = choices(tids, cum_weights=cum_tid, k=k)
            ps = choices(periods, k=k)
            out = []
            for rank, tid, per in zip(ranks, ts, ps, strict=True):
                t_us += 110 + int(rand() * 30)
                bodies = shapes[rank]
                v = int(rand() * len(bodies))
                sec, us = divmod(t_us, 1_000_000)
                out.append(f"{prefix[tid]}{sec:5d}.{us:06d}{suffix[per]}")
                out.append(bodies[v])
                n_lines += lines_per_shape[rank][v] + 1
                n_frames += lines_per_shape[rank][v] - 1
                n_jit += jit_per_shape[rank][v]
            f.write("".join(out))
            written += k
    return n_lines, n_frames, n_jit


# --------------------------------------------------------------------------- high cardinality

MASK64 = (1 << 64) - 1


def mix(x: int) -> int:
    """A 64-bit integer hash (splitmix64's finaliser): the call graph and call-site offsets
    are functions of the node, so nothing per node or per edge is stored."""
    x = (x * 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


def write_script_high_card(path: str, jm: JitMap, n_samples: int, n_threads: int,
                           rng: random.Random, stats: bool) -> tuple[int, int, int, dict]:
    """Samples as a production JIT profile has them: each one a fresh random walk from one
    of 20,000 entry functions over a call graph spanning every fresh map line (2-6 callees per
    node, 3% of calls into a C++ builtin), so nearly every sample has its own call path;
    the leaf address is drawn anew within its function for every sample; a caller's return
    address is fixed per (caller, callee) pair, so it varies by call site. Streams in
    batches of 20,000 samples: memory is the map's arrays (and, with ``stats``, the sets
    of hashes that count what is distinct)."""
    fr = Frames(jm, rng)
    fresh = jm.fresh
    n_fresh = len(fresh)
    starts, sizes = jm.start, jm.size
    entries = [fresh[rng.randrange(n_fresh)] for _ in range(20000)]
    salt = rng.getrandbits(32)
    tids = [PID] + [PID + 1 + i for i in range(n_threads)]
    cum_tid = list(itertools.accumulate([0.5] + [1.0] * n_threads))
    periods = [1001001] * 49 + [2002002]
    prefix = {tid: f"{COMM} {tid:5d} " for tid in tids}
    suffix = {p: f": {p:10d} cpu-clock: \n" for p in set(periods)}
    jit_text = [f"[unknown] ({MAP_DSO})" if has else "[unknown] ([unknown])"
                for has in REGION_HAS_MMAP]  # by region
    region = jm.region
    libc_root = frame_line(0x2724A, f"__libc_start_call_main+0x7a ({LIBC_PATH})")
    cpp_size = {name: 0x200 for name in fr.cpp_off}
    ordered = sorted(fr.cpp_off, key=fr.cpp_off.__getitem__)
    for a, b in zip(ordered, ordered[1:], strict=False):
        cpp_size[a] = fr.cpp_off[b] - fr.cpp_off[a]
    bottoms_text = []
    for bottom in BOTTOMS:
        low = []
        prev: object = "HHVM::enterTCHelper"
        for name in bottom:
            low.append(fr.cpp_callsite(name, prev))
            prev = name
        bottoms_text.append("".join(low) + libc_root + "\n")
    kernel_text = ["".join(kernel_lines(k, rng)) for k in KERNEL_TOPS]
    seen_stacks: set[int] = set()
    seen_paths: set[int] = set()
    seen_lines: set[int] = set()
    rand = rng.random
    randrange = rng.randrange
    t_us = 1_234_000_000
    n_lines = n_frames = n_jit = 0
    written = 0
    with open(path, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as f:
        head = header_block(jm, tids, t_us)
        f.write("".join(head))
        n_lines += len(head)
        while written < n_samples:
            k = min(20000, n_samples - written)
            ts = rng.choices(tids, cum_weights=cum_tid, k=k)
            ps = rng.choices(periods, k=k)
            out = []
            for tid, per in zip(ts, ps, strict=True):
                t_us += 110 + int(rand() * 30)
                node = entries[randrange(len(entries))]
                path_ids: list[object] = [node]
                depth = randrange(6, 15)
                while len(path_ids) < depth:
                    h = mix((node << 3) + randrange(2 + mix(node ^ salt) % 5) + salt)
                    if h % 100 < 3:
                        path_ids.append(CPP_BUILTINS[(h >> 8) % len(CPP_BUILTINS)])
                        break
                    node = fresh[(h >> 8) % n_fresh]
                    path_ids.append(node)
                if isinstance(path_ids[-1], str) and rand() < 0.5:
                    path_ids.append(CPP_HELPERS[randrange(len(CPP_HELPERS))])
                lines = []
                if rand() < 0.12:
                    lines.append(kernel_text[randrange(len(kernel_text))])
                if rand() < 0.03:
                    leaf_name = LIBC_LEAVES[randrange(len(LIBC_LEAVES))]
                    off = 0x10 + randrange(0x100)
                    addr = 0xA0000 + (hash_name(leaf_name) % 0x90000) + off
                    lines.append(frame_line(addr, f"{leaf_name}+{off:#x} ({LIBC_PATH})"))
                leaf = path_ids[-1]
                if isinstance(leaf, int):  # a new address in the leaf function each time
                    lines.append(frame_line(starts[leaf] + randrange(sizes[leaf]),
                                            jit_text[region[leaf]]))
                else:
                    off = 4 + randrange(max(8, cpp_size[leaf] - 4))
                    lines.append(fr.cpp(leaf, off))
                for i in range(len(path_ids) - 2, -1, -1):
                    caller, child = path_ids[i], path_ids[i + 1]
                    code = child if isinstance(child, int) else hash_name(child)
                    if isinstance(caller, int):
                        size = sizes[caller]
                        off = 5 + mix((caller << 20) ^ code ^ salt) % max(1, size - 5)
                        lines.append(frame_line(starts[caller] + off, jit_text[region[caller]]))
                    else:
                        off = 0x10 + mix(hash_name(caller) ^ code) % 0x300
                        lines.append(fr.cpp(caller, off))
                b = randrange(len(BOTTOMS))
                lines.append(bottoms_text[b])
                body = "".join(lines)
                sec, us = divmod(t_us, 1_000_000)
                out.append(f"{prefix[tid]}{sec:5d}.{us:06d}{suffix[per]}")
                out.append(body)
                nl = body.count("\n")
                n_lines += nl + 1
                n_frames += nl - 1
                n_jit += body.count("[unknown] (")
                if stats:
                    seen_stacks.add(hash(body))
                    seen_paths.add(hash((b, *path_ids)))
                    seen_lines.update(map(hash, body.splitlines()))
            f.write("".join(out))
            written += k
    distinct = {"stacks": len(seen_stacks), "call_paths": len(seen_paths),
                "frame_lines": len(seen_lines) - (1 if hash("") in seen_lines else 0)}
    return n_lines, n_frames, n_jit, distinct


def main_high_card(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    map_path = os.path.join(args.out, f"perf-{PID}.map")
    jm = write_map(map_path, args.map_lines, rng)
    t_map = time.perf_counter() - t0
    if not jm.fresh:
        print("need at least one fresh map line", file=sys.stderr)
        return 2
    t1 = time.perf_counter()
    script_path = os.path.join(args.out, "perf.script")
    n_lines, n_frames, n_jit, distinct = write_script_high_card(
        script_path, jm, args.samples, args.threads, rng, args.stats)
    mb = 1024 * 1024
    print(f"seed {args.seed}, high cardinality")
    print(f"{map_path}: {args.map_lines} lines ({len(jm.fresh)} fresh), "
          f"{os.path.getsize(map_path) / mb:.1f} MiB, {t_map:.1f} s")
    print(f"{script_path}: {args.samples} samples, {n_lines} lines, "
          f"{os.path.getsize(script_path) / mb:.1f} MiB, {time.perf_counter() - t1:.1f} s")
    print(f"  {n_frames} callchain frames ({n_frames / max(1, args.samples):.1f} per sample), "
          f"{n_jit} of them JIT addresses ({n_jit / max(1, n_frames):.0%})")
    if args.stats:
        print(f"  distinct: {distinct['stacks']:,} stacks, {distinct['call_paths']:,} call "
              f"paths (function sequences), {distinct['frame_lines']:,} frame lines")
    print(f"total {time.perf_counter() - t0:.1f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    if args.high_card:
        return main_high_card(args)
    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    map_path = os.path.join(args.out, f"perf-{PID}.map")
    jm = write_map(map_path, args.map_lines, rng)
    t_map = time.perf_counter() - t0
    if not jm.fresh:
        print("need at least one fresh map line", file=sys.stderr)
        return 2

    t1 = time.perf_counter()
    shapes, stats = build_shapes(jm, args.shapes, rng)
    t_shapes = time.perf_counter() - t1

    t2 = time.perf_counter()
    script_path = os.path.join(args.out, "perf.script")
    n_lines, n_frames, n_jit = write_script(
        script_path, jm, shapes, args.samples, args.threads, rng
    )
    t_script = time.perf_counter() - t2

    distinct = set()
    for bodies in shapes:
        for b in bodies:
            distinct.update(b.splitlines())
    distinct.discard("")
    mb = 1024 * 1024
    print(f"seed {args.seed}")
    print(
        f"{map_path}: {args.map_lines} lines ({len(jm.fresh)} fresh, "
        f"{args.map_lines - len(jm.fresh)} reusing an earlier range), "
        f"{os.path.getsize(map_path) / mb:.1f} MiB, {t_map:.1f} s"
    )
    for reg, start in enumerate(REGION_STARTS):
        how = (
            f"//anon MMAP2 -> '[unknown] ({MAP_DSO})'"
            if REGION_HAS_MMAP[reg]
            else ("no MMAP2 -> '[unknown] ([unknown])'")
        )
        print(
            f"  region {reg}: {start:#x}-{jm.region_end[reg]:#x} "
            f"({(jm.region_end[reg] - start) / mb:.0f} MiB), {how}"
        )
    print(
        f"stack shapes: {len(shapes)} ({stats['bodies']} sample bodies, {len(distinct)} "
        f"distinct frame lines, JIT share of frames per shape "
        f"{stats['jit_frames'] / max(1, stats['frames']):.0%}), "
        f"{t_shapes:.1f} s"
    )
    print(
        f"{script_path}: {args.samples} samples, {n_lines} lines, "
        f"{os.path.getsize(script_path) / mb:.1f} MiB, {t_script:.1f} s"
    )
    print(
        f"  {n_frames} callchain frames ({n_frames / max(1, args.samples):.1f} per sample), "
        f"{n_jit} of them JIT addresses ({n_jit / max(1, n_frames):.0%})"
    )
    print(f"total {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
