"""The columnar Profile (a stack table of (prefix, frame) nodes and sample groups), its
aggregations in numpy, and the builders."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jitprof.model.types import Frame, FunctionStats, Kind, ProfileDiagnostics


def distinct_ints(a: Any) -> Any:
    """The sorted distinct values of an int64 numpy array, by one sort (numpy 2's hashing
    ``unique`` is many times slower on millions of values)."""
    import numpy as np

    if len(a) == 0:
        return a
    a = np.sort(a)
    keep = np.empty(len(a), dtype=bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


def unique_inverse(a: Any) -> tuple[Any, Any]:
    """``np.unique(a, return_inverse=True)`` for an integer array, by one stable argsort
    (numpy 2's hashing ``unique`` takes seconds on millions of values)."""
    import numpy as np

    a = np.asarray(a)
    if not len(a):
        return a, np.zeros(0, dtype=np.int64)
    order = np.argsort(a, kind="stable")
    s = a[order]
    first = np.empty(len(s), dtype=bool)
    first[0] = True
    np.not_equal(s[1:], s[:-1], out=first[1:])
    inv = np.empty(len(a), dtype=np.int64)
    inv[order] = np.cumsum(first) - 1
    return s[first], inv


def group_sums(keys: Any, *values: Any) -> tuple[Any, ...]:
    """Distinct int64 ``keys`` (sorted) and, per key, the exact int64 sums of each of
    ``values`` (one sort; ``np.add.reduceat`` keeps integers exact, unlike bincount)."""
    import numpy as np

    if len(keys) == 0:
        return (keys, *(np.zeros(0, dtype=np.int64) for _ in values))
    order = np.argsort(keys, kind="stable")
    k = keys[order]
    starts = np.flatnonzero(np.concatenate(([True], k[1:] != k[:-1])))
    return (k[starts], *(np.add.reduceat(np.asarray(v, dtype=np.int64)[order], starts)
                         for v in values))


def sum_by(index: Any, values: Any, n: int) -> Any:
    """Exact int64 sums of ``values`` per ``index`` (0..n-1): ``bincount`` (fast, float64
    inside) while every sum stays below 2**53, else ``np.add.at``."""
    import numpy as np

    values = np.asarray(values, dtype=np.int64)
    if not len(values) or (values.min() >= 0 and int(values.sum()) < (1 << 53)):
        return np.bincount(index, weights=values, minlength=n).astype(np.int64)
    out = np.zeros(n, dtype=np.int64)
    np.add.at(out, index, values)
    return out


def _i32(xs: Any) -> Any:
    import numpy as np

    return np.asarray(xs, dtype=np.int32)


def _i64(xs: Any) -> Any:
    import numpy as np

    return np.asarray(xs, dtype=np.int64)


class Profile:
    """Samples of one event in tables, the shape of Firefox Profiler's processed profile.

    - ``frames``: the functions (``Frame``), interned.
    - The stack table: node ``n`` is the call path ``node_prefix[n]`` (its caller's path;
      -1: none) extended by the function ``node_frame[n]``. Nodes are numbered callers
      first (``node_prefix[n] < n``), so one pass over the ids visits parents before
      children. Two samples share a node as far as their paths agree from the root.
    - The sample table, aggregated: group ``g`` holds ``group_samples[g]`` samples of total
      weight ``group_weight[g]`` (the sum of periods, or 1 a sample without periods) whose
      stack ends at node ``group_node[g]`` (-1: an empty stack), on thread
      ``group_thread[g]`` (index into ``threads``: (pid, comm)), and, when built with a
      time-bin width (``bin_width``, seconds), in time bin ``group_bin[g]``
      (``int(time / bin_width)``); ``group_bin`` is empty otherwise.

    Memory is O(stack nodes + groups + frames). Every number a view shows is derived from
    these tables. ``stacks``/``stack_weight``/... are the same groups as Python lists
    (leaf-first tuples), made on first use for code that walks stacks one by one.
    """

    __slots__ = ("event", "frames", "threads", "time_first", "time_last", "inputs",
                 "diagnostics", "bin_width", "full_names", "node_prefix", "node_frame",
                 "group_node", "group_thread", "group_weight", "group_samples", "group_bin",
                 "versions", "_views")

    def __init__(self, event: str, frames: list[Frame] | None = None,
                 threads: list[tuple[int, str]] | None = None) -> None:
        import numpy as np

        self.event = event
        self.frames: list[Frame] = frames if frames is not None else []
        self.threads: list[tuple[int, str]] = threads if threads is not None else []
        self.time_first: float | None = None
        self.time_last: float | None = None
        self.inputs: list[str] = []
        self.diagnostics = ProfileDiagnostics()
        self.bin_width: float | None = None
        # frame id -> full demangled forms (with parameters) of a C++ frame named from ELF
        # symbols; the frame's name is perf's short form (overloads share one frame)
        self.full_names: dict[int, tuple[str, ...]] = {}
        # frame id -> how many distinct pieces of JIT code samples hit were named as it (a
        # Java method compiled several times: one row, its compiled versions counted here)
        self.versions: dict[int, int] = {}
        empty32 = np.zeros(0, dtype=np.int32)
        self.node_prefix: Any = empty32
        self.node_frame: Any = empty32
        self.group_node: Any = empty32
        self.group_thread: Any = empty32
        self.group_weight: Any = np.zeros(0, dtype=np.int64)
        self.group_samples: Any = np.zeros(0, dtype=np.int64)
        self.group_bin: Any = empty32
        self._views: dict[str, Any] = {}

    def set_tables(self, node_prefix: Any, node_frame: Any, group_node: Any,
                   group_thread: Any, group_weight: Any, group_samples: Any,
                   group_bin: Any = (), node_depth: Any = None) -> None:
        """Install the stack and sample tables (what builders call, once); ``node_depth``
        if the builder knows it."""
        self.node_prefix = _i32(node_prefix)
        self.node_frame = _i32(node_frame)
        self.group_node = _i32(group_node)
        self.group_thread = _i32(group_thread)
        self.group_weight = _i64(group_weight)
        self.group_samples = _i64(group_samples)
        self.group_bin = _i32(group_bin)
        self._views = {} if node_depth is None else {"depth": _i32(node_depth)}

    def __eq__(self, other: object) -> bool:
        """The same samples (groups in the same order, as stacks of equal frames) and the
        same facts; node numbering does not matter."""
        if not isinstance(other, Profile):
            return NotImplemented
        return (self.event == other.event and self.frames == other.frames
                and self.threads == other.threads and self.time_first == other.time_first
                and self.time_last == other.time_last and self.inputs == other.inputs
                and self.diagnostics == other.diagnostics and self.bin_width == other.bin_width
                and self.full_names == other.full_names and self.versions == other.versions
                and self.stacks == other.stacks
                and self.stack_weight == other.stack_weight
                and self.stack_samples == other.stack_samples
                and self.stack_thread == other.stack_thread and self.stack_bin == other.stack_bin)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (f"Profile(event={self.event!r}, {len(self.frames)} frames, "
                f"{len(self.node_prefix)} stack nodes, {len(self.group_node)} groups, "
                f"{self.samples} samples)")

    # -- totals ---------------------------------------------------------------------------
    @property
    def samples(self) -> int:
        return int(self.group_samples.sum())

    @property
    def weight(self) -> int:
        return int(self.group_weight.sum())

    @property
    def groups(self) -> int:
        return len(self.group_node)

    # -- the groups as Python lists (leaf-first tuples), made once --------------------------
    def node_paths(self) -> list[tuple[int, ...]]:
        """Each node's call path as a leaf-first tuple of frame ids (O(nodes x depth))."""
        paths = self._views.get("paths")
        if paths is None:
            paths = []
            append = paths.append
            for pre, fr in zip(self.node_prefix.tolist(), self.node_frame.tolist(),
                               strict=True):
                append((fr, *paths[pre]) if pre >= 0 else (fr,))
            self._views["paths"] = paths
        return paths

    @property
    def stacks(self) -> list[tuple[int, ...]]:
        out = self._views.get("stacks")
        if out is None:
            paths = self.node_paths()
            out = [paths[n] if n >= 0 else () for n in self.group_node.tolist()]
            self._views["stacks"] = out
        return out

    def _list(self, name: str, column: Any) -> list[int]:
        """A column as a Python list, made once (callers index it in loops)."""
        out = self._views.get(name)
        if out is None:
            out = self._views[name] = column.tolist()
        return out

    @property
    def stack_weight(self) -> list[int]:
        return self._list("stack_weight", self.group_weight)

    @stack_weight.setter
    def stack_weight(self, weights: list[int]) -> None:
        if len(weights) != len(self.group_node):
            raise ValueError("one weight a group")
        self.group_weight = _i64(weights)
        self._views.pop("function_stats", None)
        self._views.pop("stack_weight", None)

    @property
    def stack_samples(self) -> list[int]:
        return self._list("stack_samples", self.group_samples)

    @property
    def stack_thread(self) -> list[int]:
        return self._list("stack_thread", self.group_thread)

    @property
    def stack_bin(self) -> list[int]:
        return self._list("stack_bin", self.group_bin)

    def iter_stacks(self) -> Iterator[tuple[tuple[int, ...], int, int, int]]:
        """Yield (stack, weight, samples, thread index) per group."""
        return zip(self.stacks, self.stack_weight, self.stack_samples, self.stack_thread,
                   strict=True)

    # -- aggregations over the tables ------------------------------------------------------
    def node_depth(self) -> Any:
        """Depth of every node (a root's is 0): given by the builder, else by pointer
        jumping (each round doubles the distance looked up: O(nodes log depth))."""
        import numpy as np

        d = self._views.get("depth")
        if d is None:
            pre = self.node_prefix
            d = (pre >= 0).astype(np.int32)
            anc = pre.copy()
            live = np.flatnonzero(anc >= 0)
            while live.size:
                a = anc[live]
                d[live] += d[a]
                anc[live] = anc[a]
                live = live[anc[live] >= 0]
            self._views["depth"] = d
        return d

    def preorder(self) -> tuple[Any, Any]:
        """Each node's place in a depth-first walk from the roots (``tin``) and the size of
        its subtree (itself included): a subtree is the range ``tin .. tin + size - 1``.
        Computed a level at a time (sizes from the deepest level up, places from the
        roots down): O(nodes) with one numpy pass per level."""
        import numpy as np

        got = self._views.get("preorder")
        if got is None:
            pre = self.node_prefix
            n = len(pre)
            depth = self.node_depth()
            order = np.argsort(depth, kind="stable")
            cuts = np.flatnonzero(np.diff(depth[order])) + 1
            levels = np.split(order, cuts) if n else []
            size = np.ones(n, dtype=np.int64)
            for level in reversed(levels[1:]):  # roots have no parent to add to
                np.add.at(size, pre[level], size[level])
            tin = np.zeros(n, dtype=np.int64)
            for k, level in enumerate(levels):
                # siblings in id order; each starts after its earlier siblings' subtrees
                parent = pre[level] if k else np.full(len(level), -1, dtype=pre.dtype)
                srt = np.lexsort((level, parent))
                lv, par = level[srt], parent[srt]
                sz = size[lv]
                first = np.concatenate(([True], par[1:] != par[:-1]))
                csum = np.cumsum(sz) - sz
                group_start = np.maximum.accumulate(np.where(first, np.arange(len(lv)), 0))
                before = csum - csum[group_start]
                base = tin[par] + 1 if k else np.zeros(len(lv), dtype=np.int64)
                tin[lv] = base + before
            got = self._views["preorder"] = (tin.astype(np.int32), size.astype(np.int32))
        return got

    def node_weights(self, per_group: Any | None = None) -> tuple[Any, Any, Any, Any]:
        """Per node: (self weight, self samples, subtree weight, subtree samples) of the
        groups (``per_group``: a bool mask of the groups to count; all by default). Subtree
        sums are differences of prefix sums in depth-first order: exact int64."""
        import numpy as np

        n = len(self.node_prefix)
        gn = self.group_node
        gw, gs = self.group_weight, self.group_samples
        if per_group is not None:
            gn, gw, gs = gn[per_group], gw[per_group], gs[per_group]
        keep = gn >= 0
        sw = sum_by(gn[keep], gw[keep], n)
        ss = sum_by(gn[keep], gs[keep], n)
        if not n:
            return sw, ss, sw.copy(), ss.copy()
        tin, size = self.preorder()
        by_tin = np.empty(n, dtype=np.int32)
        by_tin[tin] = np.arange(n, dtype=np.int32)
        end = tin.astype(np.int64) + size
        out = []
        for x in (sw, ss):
            cs = np.concatenate(([0], np.cumsum(x[by_tin])))
            out.append(cs[end] - cs[tin])
            del cs
        return sw, ss, out[0], out[1]

    def outermost(self) -> Any:
        """Per node: True if no caller on its path is the same function (a recursive
        call's inner nodes are False: a function counts once per stack). Nodes sorted by
        (function, depth-first place): a node is inner if an earlier node of its function
        has a subtree that reaches past it (a running maximum)."""
        import numpy as np

        out = self._views.get("outermost")
        if out is None:
            fr = self.node_frame.astype(np.int64)
            n = len(fr)
            out = np.ones(n, dtype=bool)
            if n:
                tin, size = self.preorder()
                span = n + 1
                start = fr * span + tin  # functions apart: later ones are all larger
                del fr
                order = np.argsort(start)
                start = start[order]
                reach = np.maximum.accumulate(start + size[order])
                inner = np.zeros(n, dtype=bool)
                inner[1:] = reach[:-1] > start[1:]
                del reach, start
                out[order[inner]] = False
            self._views["outermost"] = out
        return out

    def function_stats(self) -> list[FunctionStats]:
        """Self and total per frame; total counts a recursive frame once per stack.
        From the tables: self = the weight of groups ending at a node of the frame,
        total = the subtree weights of the frame's outermost nodes. Exact int64 sums."""
        import numpy as np

        cached = self._views.get("function_stats")
        if cached is not None:
            return list(cached)
        n = len(self.frames)
        if not len(self.group_node):
            return []
        sw_n, ss_n, tw_n, ts_n = self.node_weights()
        fr = self.node_frame
        outer = self.outermost()
        sw, ss = sum_by(fr, sw_n, n), sum_by(fr, ss_n, n)
        tw, ts = sum_by(fr[outer], tw_n[outer], n), sum_by(fr[outer], ts_n[outer], n)
        used = np.flatnonzero((tw != 0) | (sw != 0) | (ts != 0)).tolist()
        swl, ssl, twl, tsl = sw.tolist(), ss.tolist(), tw.tolist(), ts.tolist()
        out = [FunctionStats(i, swl[i], twl[i], ssl[i], tsl[i]) for i in used]
        self._views["function_stats"] = tuple(out)
        return out

    def kind_stats(self) -> dict[Kind, tuple[int, int]]:
        """Self weight and self samples per kind (the leaf's kind)."""
        acc: dict[Kind, list[int]] = {k: [0, 0] for k in Kind}
        for st in self.function_stats():
            a = acc[self.frames[st.frame_id].kind]
            a[0] += st.self_weight
            a[1] += st.self_samples
        return {k: (w, s) for k, (w, s) in acc.items()}

    def verify(self) -> None:
        """Check the invariants every transform must keep; raise AssertionError if broken.
        The function totals are recomputed by a plain count over the stacks."""
        import numpy as np

        m = len(self.group_node)
        if not (len(self.group_thread) == len(self.group_weight) == len(self.group_samples)
                == m):
            raise AssertionError("group arrays differ in length")
        if len(self.group_bin) and len(self.group_bin) != m:
            raise AssertionError("group_bin differs in length from the groups")
        nn = len(self.node_prefix)
        if len(self.node_frame) != nn:
            raise AssertionError("node arrays differ in length")
        if nn and not (self.node_prefix < np.arange(nn)).all():
            raise AssertionError("a node's prefix is not an earlier node")
        if nn and ((self.node_frame < 0) | (self.node_frame >= len(self.frames))).any():
            raise AssertionError("bad frame id in the stack table")
        if m and ((self.group_node < -1) | (self.group_node >= nn)).any():
            raise AssertionError("bad stack node in a group")
        if m and ((self.group_weight < 0).any() or (self.group_samples <= 0).any()):
            raise AssertionError("bad weight/samples in a group")
        if m and ((self.group_thread < 0) | (self.group_thread >= len(self.threads))).any():
            raise AssertionError("bad thread index in a group")
        keys = (self.group_node.astype(np.int64) * (len(self.threads) + 1)
                + self.group_thread) * (int(self.group_bin.max()) + 2 if len(self.group_bin)
                                        else 1)
        if len(self.group_bin):
            keys += self.group_bin
        if len(np.unique(keys)) != m:
            raise AssertionError("two groups of the same stack, thread and bin")
        stats = {f.frame_id: f for f in self.function_stats()}
        nframes = len(self.frames)
        sw = [0] * nframes
        tw = [0] * nframes
        ss = [0] * nframes
        ts = [0] * nframes
        for stack, w, s, _t in self.iter_stacks():
            if not stack:
                continue
            sw[stack[0]] += w
            ss[stack[0]] += s
            for fid in set(stack):
                tw[fid] += w
                ts[fid] += s
        for fid in range(nframes):
            f = stats.get(fid)
            got = (f.self_weight, f.total_weight, f.self_samples, f.total_samples) if f else (
                0, 0, 0, 0)
            if got != (sw[fid], tw[fid], ss[fid], ts[fid]):
                want = (sw[fid], tw[fid], ss[fid], ts[fid])
                raise AssertionError(f"function stats of frame {fid} {got} differ from a "
                                     f"count over the stacks {want}")
            if not got[0] <= got[1] <= self.weight:
                raise AssertionError(f"self <= total <= all broken for frame {fid}")


class StackTreeBuilder:
    """The stack table built one stack at a time: a dict from (prefix node, frame) to node."""

    def __init__(self) -> None:
        self._nodes: dict[tuple[int, int], int] = {}
        self.node_prefix: list[int] = []
        self.node_frame: list[int] = []

    def node(self, stack: tuple[int, ...]) -> int:
        """The node of a leaf-first stack of frame ids (-1 for the empty stack), made if new."""
        node = -1
        nodes = self._nodes
        for fid in reversed(stack):
            key = (node, fid)
            nxt = nodes.get(key)
            if nxt is None:
                nxt = nodes[key] = len(self.node_prefix)
                self.node_prefix.append(node)
                self.node_frame.append(fid)
            node = nxt
        return node


class ProfileBuilder:
    """Interns frames and threads and adds stacks one at a time (a dict per tree node);
    ``finish()`` returns the Profile. For bulk building from arrays see
    ``jitprof.resolve``; both give the same tables up to node numbering."""

    def __init__(self, event: str) -> None:
        self._frames: list[Frame] = []
        self._frame_ids: dict[tuple[str, Kind, str], int] = {}
        self._tree = StackTreeBuilder()
        self._groups: dict[tuple[int, int, int | None], list[int]] = {}
        self._thread_ids: dict[tuple[int, str], int] = {}
        self._versions: dict[int, set[object]] = {}
        self.profile = Profile(event=event, frames=self._frames)

    def frame(self, name: str, kind: Kind, dso: str, key_dso: str | None = None) -> int:
        """Intern a frame. ``key_dso`` (default ``dso``) is the part of the dso that makes
        the function distinct; runtime names (PHP/HPHP/HHVM) pass "" so one function read
        from the map and from the binary is one row."""
        key = (name, kind, dso if key_dso is None else key_dso)
        fid = self._frame_ids.get(key)
        if fid is None:
            fid = len(self._frames)
            self._frames.append(Frame(name, kind, dso))
            self._frame_ids[key] = fid
        return fid

    def full_name(self, fid: int, full: str) -> None:
        """Record a full (demangled, with parameters) form of frame ``fid``'s name."""
        have = self.profile.full_names.get(fid, ())
        if full not in have:
            self.profile.full_names[fid] = tuple(sorted((*have, full)))

    def version(self, fid: int, code: object) -> None:
        """Record that the piece of code ``code`` (a map entry) was named as frame ``fid``."""
        seen = self._versions.setdefault(fid, set())
        seen.add(code)
        if len(seen) > 1:
            self.profile.versions[fid] = len(seen)

    def thread(self, pid: int, comm: str) -> int:
        key = (pid, comm)
        tid = self._thread_ids.get(key)
        if tid is None:
            tid = len(self.profile.threads)
            self.profile.threads.append(key)
            self._thread_ids[key] = tid
        return tid

    def node(self, stack: tuple[int, ...]) -> int:
        """The stack node of a leaf-first stack (-1 for the empty stack), made if new."""
        return self._tree.node(stack)

    def add(self, stack: tuple[int, ...], thread: int, weight: int, samples: int = 1,
            bin: int | None = None) -> None:
        """Count samples of a stack (in time bin ``bin`` when the profile is binned)."""
        key = (self.node(stack), thread, bin)
        acc = self._groups.get(key)
        if acc is None:
            self._groups[key] = [samples, weight]
        else:
            acc[0] += samples
            acc[1] += weight

    def finish(self) -> Profile:
        keys = list(self._groups)
        vals = list(self._groups.values())
        binned = any(k[2] is not None for k in keys)
        self.profile.set_tables(
            self._tree.node_prefix, self._tree.node_frame, [k[0] for k in keys],
            [k[1] for k in keys],
            [v[1] for v in vals], [v[0] for v in vals],
            [k[2] if k[2] is not None else -1 for k in keys] if binned else ())
        return self.profile

