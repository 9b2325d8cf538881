"""Flame graph files on a big, high-cardinality profile: how long jitprof takes to write
them, how big they are, and how long headless Chromium takes to show them and to zoom,
search and sort. Prints a table; asserts nothing.

    python3 benchmarks/flame.py [--samples 1000000] [--stacks 200000] [--functions 60000]
                                [--input PATH...] [--minwidth 0.1 --minwidth 1] [--out DIR]

The profile (unless --input: anything ``jitprof report`` reads, e.g. the output of
gen_synthetic.py) is HHVM-shaped and deterministic for a seed: a fixed root path (main ->
HPHP::runRequestLoop -> ... -> HHVM::enterTCHelper), then 3 to 22 PHP frames drawn from
FUNCTIONS (half a Zipf-like choice, a few hot ones; half uniform: a long tail), a leaf
that is PHP, HPHP runtime or kernel; STACKS distinct stacks share SAMPLES samples
(Zipf-like counts). Needs chromium and chromedriver for the browser columns (skipped
without them).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jitprof.export import ExportOptions  # noqa: E402
from jitprof.export.html import HtmlExporter  # noqa: E402
from jitprof.export.svg import SvgExporter  # noqa: E402
from jitprof.model import Kind, Profile, ProfileBuilder  # noqa: E402


def synthetic(samples: int, stacks: int, functions: int, seed: int) -> Profile:
    rnd = random.Random(seed)
    b = ProfileBuilder("cpu-clock")
    root = [b.frame(n, k, d) for n, k, d in (
        ("__libc_start_call_main", Kind.NATIVE, "/usr/lib/libc.so.6"),
        ("main", Kind.NATIVE, "/usr/local/bin/hhvm"),
        ("HPHP::runRequestLoop", Kind.HPHP, "/usr/local/bin/hhvm"),
        ("HPHP::HttpRequestHandler::handleRequest", Kind.HPHP, "/usr/local/bin/hhvm"),
        ("HPHP::jit::enterTC", Kind.HPHP, "/usr/local/bin/hhvm"),
        ("HHVM::enterTCHelper", Kind.HHVM, "[JIT]"))]
    php = [b.frame(f"PHP::/var/www/src/Mod{i % 97}/File{i // 97}.php::Class{i // 7}::"
                   f"method{i}", Kind.PHP, "[JIT]") for i in range(functions)]
    runtime = [b.frame(f"HPHP::f_builtin_{i}<std::pair<int, char const*> >", Kind.HPHP,
                       "/usr/local/bin/hhvm") for i in range(2000)]
    kernel = [b.frame(f"kernel_fn_{i}", Kind.KERNEL, "[kernel.kallsyms]") for i in range(300)]
    threads = [b.thread(4242, "hhvm")]

    def pick(pool: list[int]) -> int:  # half from a few hot ones, half from all
        if rnd.random() < 0.5:
            return pool[rnd.randrange(len(pool))]
        return pool[min(int(rnd.paretovariate(0.9)) - 1, len(pool) - 1)]

    rnd.shuffle(php)
    counts = [1 + int(rnd.paretovariate(1.2)) for _ in range(stacks)]
    scale = samples / sum(counts)
    counts = [max(1, round(c * scale)) for c in counts]
    made = 0
    seen: set[tuple[int, ...]] = set()  # the builder's tables exist only after finish()
    while made < stacks:
        path = root + [pick(php) for _ in range(rnd.randint(3, 22))]
        r = rnd.random()
        if r < 0.3:
            path.append(pick(runtime))
        elif r < 0.35:
            path.append(pick(kernel))
        key = tuple(reversed(path))
        if key in seen:
            continue
        seen.add(key)
        c = counts[made]
        b.add(key, threads[0], c * 1_001_001, c)
        made += 1
    p = b.finish()
    p.diagnostics.has_period = True
    p.time_first, p.time_last = 100.0, 100.0 + p.samples / 999 / 2
    p.inputs = [f"synthetic(samples={samples}, stacks={stacks}, functions={functions})"]
    return p


def browser_figures(path: Path, html: bool) -> dict[str, float]:
    """Seconds: load (navigation to the load event, the script having run), zoom (a click
    on the widest frame of row 8, in the page), search, and for a page the table sort."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1300,900"):
        opts.add_argument(flag)
    opts.add_argument("--user-data-dir=" + tempfile.mkdtemp(prefix="jitprof-bench-"))
    d = webdriver.Chrome(options=opts, service=Service("/usr/bin/chromedriver"))
    try:
        t0 = time.perf_counter()
        d.get(path.resolve().as_uri())
        wall = time.perf_counter() - t0
        nav = d.execute_script(
            "var t = performance.getEntriesByType('navigation')[0];"
            "return [t.domContentLoadedEventEnd, t.loadEventEnd];")
        api = ("document.getElementById('jpflame').jitprof")
        zoom = d.execute_script(
            f"var a = {api}, f = a.frames.filter(function (x) {{ return x.d === 8; }})"
            ".sort(function (p, q) { return q.w - p.w; })[0], t = performance.now();"
            "a.zoom(f); var u = performance.now(); a.reset();"
            "return [u - t, performance.now() - u];")
        search = d.execute_script(
            f"var a = {api}, t = performance.now(); var r = a.search('method1[0-9]');"
            "return [performance.now() - t, r ? r.frames : 0];")
        frames = d.execute_script(f"return {api}.frames.length;")
        out = {"wall": wall, "dom": nav[0] / 1000, "load": nav[1] / 1000,
               "zoom": zoom[0] / 1000, "reset": zoom[1] / 1000, "search": search[0] / 1000,
               "frames": float(frames)}
        if html:
            out["sort"] = d.execute_script(
                "var th = document.querySelectorAll('#table-box th')[1], t = performance.now();"
                "th.click(); return performance.now() - t;") / 1000
        return out
    finally:
        d.quit()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--stacks", type=int, default=200_000)
    ap.add_argument("--functions", type=int, default=60_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--input", nargs="*", default=None,
                    help="profile these inputs instead (anything jitprof report reads)")
    ap.add_argument("--minwidth", type=float, action="append", default=None)
    ap.add_argument("--out", default="/tmp/jitprof-bench/flame")
    ap.add_argument("--no-browser", action="store_true")
    a = ap.parse_args()
    t0 = time.perf_counter()
    if a.input:
        from jitprof.resolve import load_profile

        prof = load_profile(a.input, search_tmp=False)
    else:
        prof = synthetic(a.samples, a.stacks, a.functions, a.seed)
    used = len({f for st in prof.stacks for f in st})
    print(f"profile: {prof.samples:,} samples, {len(prof.stacks):,} distinct stacks, "
          f"{used:,} functions on them, depth <= {max(map(len, prof.stacks), default=0)} "
          f"(made in {time.perf_counter() - t0:.1f} s); load average "
          f"{os.getloadavg()[0]:.2f}")
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    browser = not a.no_browser and os.path.exists("/usr/bin/chromedriver")
    head = (f"{'file':<6} {'minwidth':>8} {'write s':>8} {'MiB':>7} {'frames':>8}")
    if browser:
        head += (f" {'load s':>7} {'zoom s':>7} {'reset s':>8} {'search s':>9} "
                 f"{'sort s':>7}")
    print(head)
    for mw in a.minwidth or [0.1, 1.0]:
        for cls, ext in ((SvgExporter, "svg"), (HtmlExporter, "html")):
            t = time.perf_counter()
            data = cls(ExportOptions(minwidth=mw)).render(prof)
            secs = time.perf_counter() - t
            path = out / f"flame-mw{mw:g}.{ext}"
            path.write_bytes(data)
            line = f"{ext:<6} {mw:>8g} {secs:8.2f} {len(data) / 2**20:7.2f}"
            if browser:
                b = browser_figures(path, ext == "html")
                line += (f" {int(b['frames']):>8,} {b['load']:7.2f} {b['zoom']:7.3f} "
                         f"{b['reset']:8.3f} {b['search']:9.3f} "
                         f"{b.get('sort', float('nan')):7.3f}")
            else:
                line += f" {data.count(b'<g class=' + bytes([34]) + b'f'):>8,}"
            print(line, flush=True)
    if not a.input:
        diff_figures(prof, a, out, browser, head)
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"files in {out}; peak RSS of this process {rss:,.0f} MiB (both profiles, all "
          "files)")


def diff_figures(before: Profile, a: argparse.Namespace, out: Path, browser: bool,
                 head: str) -> None:
    """The same for ``jitprof diff BEFORE AFTER -o diff.svg|html``: AFTER is the profile of
    the next seed (the same functions, other stacks and weights); binomial (no times)."""
    from jitprof.analysis.diff import diff_profiles
    from jitprof.export.diffsvg import DiffSvgExporter
    from jitprof.export.html import DiffHtmlExporter
    from jitprof.present.diffviews import DiffViews

    after = synthetic(a.samples, a.stacks, a.functions, a.seed + 1)
    t = time.perf_counter()
    by_self = diff_profiles([before], [after], method="binomial")
    by_total = diff_profiles([before], [after], by="total", method="binomial")
    print(f"diff: seeds {a.seed} and {a.seed + 1}, {len(by_self.functions):,} functions; "
          f"both comparisons (self, total) {time.perf_counter() - t:.2f} s (not in write s)")
    print(head)
    for mw in a.minwidth or [0.1, 1.0]:
        views = DiffViews(by_self, [before], [after])  # its paired stacks are part of write s
        for cls, ext in ((DiffSvgExporter, "svg"), (DiffHtmlExporter, "html")):
            t = time.perf_counter()
            data = cls(ExportOptions(minwidth=mw)).render(views, by_total)
            secs = time.perf_counter() - t
            path = out / f"diff-mw{mw:g}.{ext}"
            path.write_bytes(data)
            line = f"d-{ext:<4} {mw:>8g} {secs:8.2f} {len(data) / 2**20:7.2f}"
            if browser:
                b = browser_figures(path, ext == "html")
                line += (f" {int(b['frames']):>8,} {b['load']:7.2f} {b['zoom']:7.3f} "
                         f"{b['reset']:8.3f} {b['search']:9.3f} "
                         f"{b.get('sort', float('nan')):7.3f}")
            print(line, flush=True)


if __name__ == "__main__":
    main()
