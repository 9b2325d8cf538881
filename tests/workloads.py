"""JavaScript workloads for node recordings, with hot functions known by construction."""

from __future__ import annotations

# fib: pure JIT code; sortMany: JIT code calling V8's sort builtin (a comparator callback)
NODE_FUNCTIONS = """
function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
function sortMany(k) {
  let s = 0;
  for (let r = 0; r < k; r++) {
    const a = [];
    for (let i = 0; i < 20000; i++) a.push((i * 7919) % 10007);
    a.sort((x, y) => x - y);
    s += a[100];
  }
  return s;
}
"""


def node_loop(ms: int, body: str = "t += fib(22); t += sortMany(2);", extra: str = "") -> str:
    """A script that runs ``body`` for ``ms`` milliseconds of wall time, then prints ``t``."""
    return (NODE_FUNCTIONS + extra + f"const end = Date.now() + {ms};\nlet t = 0;\n"
            f"while (Date.now() < end) {{ {body} }}\nconsole.log(t);\n")
