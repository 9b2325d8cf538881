"""The README and docs/: every relative link points to a file that exists (and to a heading
that exists, where it names one), and every page of docs/ is reachable from the README."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"(?<!\!)\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
CODE_SPAN = re.compile(r"`(?:[^`\n]|\n(?!\n))*`")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)  # https:, mailto:, ...


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def prose(text: str) -> str:
    """The text with fenced code blocks and inline code spans blanked, newlines kept (a
    `[x](y)` in code is no link, and a `# ...` line of an example output is no heading); a
    code span or a link may run over a line break, never over a blank line."""
    out: list[str] = []
    fence = ""
    for line in text.split("\n"):
        stripped = line.lstrip()
        if fence:
            if stripped.startswith(fence):
                fence = ""
            out.append("")
        elif stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
            out.append("")
        else:
            out.append(line)
    return CODE_SPAN.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), "\n".join(out))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: the text without markup, lower case, punctuation
    other than '-' and '_' dropped, each space a '-'."""
    text = heading.replace("`", "")
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link keeps its text
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    raw = path.read_text().split("\n")
    for line, plain in zip(raw, prose(path.read_text()).split("\n"), strict=True):
        if not plain.strip():
            continue
        m = HEADING.match(line)
        if m:
            base = slug(m.group(2))
            n = seen.get(base, 0)
            seen[base] = n + 1
            out.add(base if n == 0 else f"{base}-{n}")
    return out


def broken_links(path: Path) -> list[str]:
    """Every relative link of a page whose file, or heading, does not exist."""
    bad = []
    text = prose(path.read_text())
    for m in LINK.finditer(text):
        target = m.group("target")
        if EXTERNAL.match(target):
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        lineno = text.count("\n", 0, m.start("target")) + 1
        where = f"{path.relative_to(ROOT)}:{lineno}: {target}"
        if not dest.exists():
            bad.append(f"{where}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            bad.append(f"{where}: no heading #{anchor} in {dest.name}")
    return bad


def links_to(path: Path) -> set[Path]:
    out = set()
    for m in LINK.finditer(prose(path.read_text())):
        target = m.group("target")
        if not EXTERNAL.match(target) and target.partition("#")[0]:
            out.add((path.parent / target.partition("#")[0]).resolve())
    return out


def test_every_relative_link_resolves() -> None:
    bad = [b for p in pages() for b in broken_links(p)]
    assert not bad, "\n".join(bad)


def test_every_docs_page_is_linked_from_the_readme() -> None:
    linked = links_to(ROOT / "README.md")
    missing = [p.name for p in sorted((ROOT / "docs").glob("*.md")) if p.resolve() not in linked]
    assert not missing, missing


def test_the_checker_finds_a_broken_file_and_a_broken_heading(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.md").write_text("# A page\n\n## Some `code` (here)\n\n```\n# not a heading\n"
                                   "[in code](nowhere.md)\n```\n")
    page = tmp_path / "b.md"
    page.write_text("# B\n\n[ok](a.md) [ok](a.md#some-code-here) [ok](#b) [ext](https://x.y/z)\n"
                    "[gone](missing.md) and [bad anchor](a.md#not-a-heading)\n"
                    "`[code](nowhere.md)` and [a `long\nname`](gone.md)\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    bad = broken_links(page)
    assert bad == ["b.md:4: missing.md: no such file",
                   "b.md:4: a.md#not-a-heading: no heading #not-a-heading in a.md",
                   "b.md:6: gone.md: no such file"]
    assert anchors(tmp_path / "a.md") == {"a-page", "some-code-here"}


def test_slug_matches_githubs_anchors() -> None:
    # anchors as github.com renders them for these headings
    assert slug("The diff view (`jitprof diff ... --tui`)") == "the-diff-view-jitprof-diff----tui"
    assert slug("Scale: what jitprof keeps, and what it costs") == \
        "scale-what-jitprof-keeps-and-what-it-costs"
    assert slug("`jitprof top --stdio`: a live table") == "jitprof-top---stdio-a-live-table"


# -- the code the pages name exists ------------------------------------------------------------
PATH_REF = re.compile(r"`(jitprof/[\w/.]*\w)`")
DOTTED_REF = re.compile(r"`(jitprof(?:\.\w+)+)(?:\([^`]*\))?`")


def test_module_map_lists_every_module_and_only_real_ones() -> None:
    """docs/architecture.md's module map: one line per module of jitprof/, under its
    package's line, and no line for a file that does not exist."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    block = text[text.index("## Module map"):]
    block = block[block.index("```\n") + 4:]
    block = block[:block.index("```")]
    listed, package = set(), ""
    for line in block.split("\n"):
        m = re.match(r"^(jitprof/[\w/.]*)\s", line)
        if m:
            package = m.group(1)
            if package.endswith(".py"):
                listed.add(package)
            continue
        m = re.match(r"^  (\w+\.py)\s", line)
        if m:
            assert package.endswith("/"), line
            listed.add(package + m.group(1))
    real = {str(p.relative_to(ROOT)) for p in (ROOT / "jitprof").rglob("*.py")
            if p.name not in ("__init__.py", "__main__.py", "profile_pb2.py")}
    assert sorted(real - listed) == [] and sorted(listed - real) == []


def test_code_named_in_the_pages_exists() -> None:
    """Every `jitprof/...` path and `jitprof.module.name` the README and docs/ name."""
    import importlib

    bad = []
    for page in pages():
        text = page.read_text()
        for path in PATH_REF.findall(text):
            if not (ROOT / path).exists():
                bad.append(f"{page.name}: {path}")
        for dotted in DOTTED_REF.findall(text):
            parts = dotted.split(".")
            for n in range(len(parts), 0, -1):  # the longest importable module, then names
                try:
                    obj: object = importlib.import_module(".".join(parts[:n]))
                except ImportError:
                    continue
                for attr in parts[n:]:
                    obj = getattr(obj, attr, None)
                if obj is None:
                    bad.append(f"{page.name}: {dotted}")
                break
    assert not bad, bad
