"""Profile invariants: verify() accepts consistent profiles and catches broken ones."""

from __future__ import annotations

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
        lambda p: p.stack_weight.append(1),  # arrays out of step
        lambda p: p.stacks.__setitem__(0, (99,)),  # unknown frame id
        lambda p: p.stack_samples.__setitem__(0, 0),  # a stack without samples
        lambda p: p.stack_thread.__setitem__(0, 5),  # unknown thread
        lambda p: p.stack_weight.__setitem__(0, -1),  # negative weight
    ],
)
def test_verify_catches_corruption(corrupt) -> None:  # type: ignore[no-untyped-def]
    p = _small()
    corrupt(p)
    with pytest.raises(AssertionError):
        p.verify()
