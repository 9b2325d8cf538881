"""Reading the flame graphs jitprof writes (SVG files, and the SVG and data inside an HTML
page) back into plain data, and the checks every flame graph must pass: geometry (children
within their parents, siblings apart, widths proportional to weights) and each frame's
weight against the stacks, summed here independently by call path."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jitprof.model import Profile

SVG = "{http://www.w3.org/2000/svg}"


@dataclass
class FrameBox:
    name: str
    title: list[str]
    x: int  # weight offset
    w: int  # weight
    d: int  # depth
    s: int  # self weight
    n: int  # samples
    rect_x: float
    rect_y: float
    rect_w: float
    fill: str
    merged: int
    level: int | None
    fid: int | None
    label: str


def parse_svg(text: str) -> ET.Element:
    return ET.fromstring(text.encode("utf-8"))


def frames_of(root: ET.Element) -> list[FrameBox]:
    out = []
    for g in root.iter(f"{SVG}g"):
        if "f" not in (g.get("class") or "").split():
            continue
        title = g.find(f"{SVG}title")
        rect = g.find(f"{SVG}rect")
        text = g.find(f"{SVG}text")
        assert title is not None and rect is not None
        lines = (title.text or "").split("\n")
        level = g.get("data-l")
        fid = g.get("data-f")
        out.append(FrameBox(lines[0], lines, int(g.get("data-x", "")), int(g.get("data-w", "")),
                            int(g.get("data-d", "")), int(g.get("data-s", "")),
                            int(g.get("data-n", "")), float(rect.get("x", "")),
                            float(rect.get("y", "")), float(rect.get("width", "")),
                            rect.get("fill", ""), int(g.get("data-m", "0")),
                            None if level is None else int(level),
                            None if fid is None else int(fid),
                            "" if text is None else (text.text or "")))
    return out


def parent_of(frames: Sequence[FrameBox]) -> list[int]:
    """Each frame's parent (-1 for the root): the frame one row up whose weight interval
    holds it; exactly one must."""
    by_depth: dict[int, list[int]] = {}
    for i, f in enumerate(frames):
        by_depth.setdefault(f.d, []).append(i)
    out = []
    for f in frames:
        if f.d == 0:
            out.append(-1)
            continue
        holders = [j for j in by_depth.get(f.d - 1, [])
                   if frames[j].x <= f.x and f.x + f.w <= frames[j].x + frames[j].w]
        assert len(holders) == 1, (f.name, holders)
        out.append(holders[0])
    return out


def check_geometry(frames: Sequence[FrameBox], total: int, width: float = 1200.0,
                   pad: float = 10.0) -> list[int]:
    """Children never wider than their parents and inside them, siblings never overlap,
    drawn widths proportional to weights; returns the parents."""
    assert frames and frames[0].d == 0 and frames[0].w == total
    parents = parent_of(frames)
    kids: dict[int, list[int]] = {}
    for i, p in enumerate(parents):
        if p >= 0:
            kids.setdefault(p, []).append(i)
    for i, f in enumerate(frames):
        assert abs(f.rect_w - f.w * width / total) <= 0.006, f.name
        assert abs(f.rect_x - (pad + f.x * width / total)) <= 0.006, f.name
        assert 0 <= f.s <= f.w
        ks = sorted(kids.get(i, []), key=lambda k: frames[k].x)
        assert sum(frames[k].w for k in ks) + f.s <= f.w, f.name
        for k in ks:
            assert frames[k].w <= f.w and frames[k].rect_w <= f.rect_w + 1e-9
            assert f.rect_x - 1e-6 <= frames[k].rect_x
            assert frames[k].rect_x + frames[k].rect_w <= f.rect_x + f.rect_w + 0.011
        for a, b in zip(ks, ks[1:], strict=False):
            assert frames[a].x + frames[a].w <= frames[b].x
        if f.merged:
            assert not ks  # nothing is drawn under a merged box
    return parents


def paths_of(frames: Sequence[FrameBox], parents: Sequence[int]) -> list[tuple[str, ...]]:
    """Each frame's call path as names, root excluded (merged boxes: None-named)."""
    out: list[tuple[str, ...]] = []
    for i, p in enumerate(parents):
        out.append(() if p < 0 else (*out[p], frames[i].name))
    return out


def path_weights(profile: Profile, by_period: bool) -> dict[tuple[str, ...], tuple[int, int]]:
    """(inclusive weight, self weight) of every root-first call path of frame names, from
    the stacks, here and independently of jitprof's trees."""
    acc: dict[tuple[str, ...], list[int]] = {}
    names = [f.name for f in profile.frames]
    for stack, w, s, _t in profile.iter_stacks():
        v = w if by_period else s
        path = tuple(names[f] for f in reversed(stack))
        for i in range(1, len(path) + 1):
            acc.setdefault(path[:i], [0, 0])[0] += v
        if path:
            acc[path][1] += v
    return {k: (a, b) for k, (a, b) in acc.items()}


def page_data(html: str) -> dict[str, Any]:
    m = re.search(r'<script type="application/json" id="jp-data">(.*?)</script>', html, re.S)
    assert m is not None
    data: dict[str, Any] = json.loads(m.group(1))
    return data


def page_svg(html: str) -> ET.Element:
    m = re.search(r"<svg .*?</svg>", html, re.S)
    assert m is not None
    return parse_svg(m.group(0))
