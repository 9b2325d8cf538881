"""Profile invariants: verify() accepts consistent profiles and catches broken ones."""

from __future__ import annotations

import numpy as np
import pytest

from jitprof.model import Kind, Profile, ProfileBuilder


def _small() -> Profile:
    b = ProfileBuilder("cpu-clock")
    main = b.frame("main", Kind.NATIVE, "/bin/x")
    f = b.frame("f", Kind.NATIVE, "/bin/x")
    g = b.frame("PHP::g", Kind.PHP, "[JIT]", "")
    t = b.thread(1, "x")
    b.add((f, g, main), t, 10)
    b.add((f, g, main), t, 5)  # same stack: aggregated
    b.add((g, g, main), t, 7)  # recursion
    b.add((main,), t, 1)
    return b.finish()


def test_builder_aggregates_and_interns() -> None:
    p = _small()
    assert len(p.stacks) == 3 and p.samples == 4 and p.weight == 23
    b = ProfileBuilder("e")
    assert b.frame("HPHP::f", Kind.HPHP, "/bin/hhvm", "") == b.frame("HPHP::f", Kind.HPHP,
                                                                     "[JIT]", "")
    assert b.frame("f", Kind.NATIVE, "/a") != b.frame("f", Kind.NATIVE, "/b")


def test_function_stats_hand_computed() -> None:
    p = _small()
    p.verify()
    stats = {p.frames[s.frame_id].name: (s.self_weight, s.total_weight, s.self_samples,
                                         s.total_samples) for s in p.function_stats()}
    assert stats == {"main": (1, 23, 1, 4), "f": (15, 15, 2, 2), "PHP::g": (7, 22, 1, 3)}
    assert p.kind_stats()[Kind.PHP] == (7, 1)
    assert p.kind_stats()[Kind.NATIVE] == (16, 3)


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda p: setattr(p, "group_weight", np.append(p.group_weight, 1)),  # out of step
        lambda p: p.node_frame.__setitem__(0, 99),  # unknown frame id
        lambda p: p.node_prefix.__setitem__(0, 3),  # a prefix that is not an earlier node
        lambda p: p.group_node.__setitem__(0, 99),  # unknown stack node
        lambda p: p.group_samples.__setitem__(0, 0),  # a stack without samples
        lambda p: p.group_thread.__setitem__(0, 5),  # unknown thread
        lambda p: p.group_weight.__setitem__(0, -1),  # negative weight
        lambda p: setattr(p, "group_node", np.zeros_like(p.group_node)),  # repeated groups
    ],
)
def test_verify_catches_corruption(corrupt) -> None:  # type: ignore[no-untyped-def]
    p = _small()
    corrupt(p)
    with pytest.raises(AssertionError):
        p.verify()


@pytest.mark.parametrize("seed", range(8))
def test_function_stats_equals_a_per_stack_count(seed: int) -> None:
    """The vectorised sums equal a plain count over the stacks: recursion counted once in
    total, empty stacks only in the samples, frames no stack uses left out, weights near
    2**53 summed exactly."""
    import random

    rnd = random.Random(seed)
    b = ProfileBuilder("cpu-clock")
    ids = [b.frame(f"f{i}", Kind.NATIVE, "a") for i in range(rnd.randint(1, 9))]
    th = b.thread(1, "x")
    for _ in range(rnd.randint(1, 80)):
        stack = tuple(rnd.choice(ids) for _ in range(rnd.randint(0, 6)))
        b.add(stack, th, rnd.choice([1, 7, 2**53 - 1]), rnd.randint(1, 5))
    p = b.finish()
    want: dict[int, list[int]] = {}
    for stack, w, s, _t in p.iter_stacks():
        for fid in set(stack):
            acc = want.setdefault(fid, [0, 0, 0, 0])
            acc[1] += w
            acc[3] += s
        if stack:
            acc = want.setdefault(stack[0], [0, 0, 0, 0])
            acc[0] += w
            acc[2] += s
    got = {st.frame_id: [st.self_weight, st.total_weight, st.self_samples, st.total_samples]
           for st in p.function_stats()}
    assert got == want
    assert [s.frame_id for s in p.function_stats()] == sorted(want)
