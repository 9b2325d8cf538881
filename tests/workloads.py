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


# Java (issue 13): three hot methods by construction (Hot.fib: recursion; Hot.sortHeavy:
# Arrays.sort of longs, i.e. java.util.DualPivotQuicksort; Hot.mathHeavy: sqrt and sin)
JAVA_HOT = """
import java.util.Arrays;
public class Hot {
    static long sink;
    static long sortHeavy(int n) {
        long[] a = new long[n];
        for (int i = 0; i < n; i++) a[i] = (i * 7919L) % 10007;
        Arrays.sort(a);
        return a[n / 2];
    }
    static long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
    static double mathHeavy(int n) {
        double s = 0;
        for (int i = 1; i < n; i++) s += Math.sqrt(i) * Math.sin(i);
        return s;
    }
    public static void main(String[] args) {
        long end = System.currentTimeMillis() + Long.parseLong(args[0]);
        while (System.currentTimeMillis() < end) {
            sink += sortHeavy(20000); sink += fib(24); sink += (long) mathHeavy(50000);
        }
        System.out.println(sink);
    }
}
"""
JAVA_FLAGS = ("-XX:+UnlockDiagnosticVMOptions", "-XX:+PreserveFramePointer")
