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


# issue 15: a busy two-thread C++ process with hot functions known by construction, for
# the native perf.data reader's recordings (cpu-clock, page-faults, sched_switch) and the
# `top` cost benchmark. work::spin_a and work::clocks (clock_gettime in a loop: ~20% of the
# samples in the [vdso]) run on the main thread, work::spin_b and work::touch (a page-fault
# loop) on the second one; argv[2] > 0: each round sleeps that many microseconds (context
# switches for a sched:sched_switch recording).
BUSY2_CPP = r"""
#include <sys/mman.h>
#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <time.h>
namespace work {
__attribute__((noinline)) double spin_a(long n) {
  double s = 0; for (long i = 0; i < n; i++) s += (double)i / (double)(i + 3); return s;
}
__attribute__((noinline)) double spin_b(long n) {
  double s = 1; for (long i = 0; i < n; i++) s = s * 1.0000001 + (double)(i & 7); return s;
}
__attribute__((noinline)) long touch(size_t pages) {
  char* p = static_cast<char*>(mmap(nullptr, pages * 4096, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  long s = 0;
  for (size_t i = 0; i < pages; i++) { p[i * 4096] = (char)i; s += p[i * 4096]; }
  munmap(p, pages * 4096);
  return s;
}
__attribute__((noinline)) long clocks(long n) {
  long s = 0; struct timespec ts;
  for (long i = 0; i < n; i++) { clock_gettime(CLOCK_MONOTONIC, &ts); s += ts.tv_nsec & 1; }
  return s;
}
}
int main(int argc, char** argv) {
  double secs = argc > 1 ? atof(argv[1]) : 1.0;
  int sleepy = argc > 2 ? atoi(argv[2]) : 0;
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(secs);
  double t1 = 0, t2 = 0;
  std::thread other([&] {
    while (std::chrono::steady_clock::now() < end) {
      t2 += work::spin_b(200000); t2 += work::touch(32); if (sleepy) usleep(sleepy);
    }
  });
  while (std::chrono::steady_clock::now() < end) {
    t1 += work::spin_a(300000); t1 += work::clocks(20000); if (sleepy) usleep(sleepy);
  }
  other.join();
  std::printf("%f\n", t1 + t2);
}
"""
BUSY2_FLAGS = ("-O1", "-g", "-fno-omit-frame-pointer", "-pthread")
