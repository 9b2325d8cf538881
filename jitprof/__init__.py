"""jitprof: name JIT-compiled code in Linux perf profiles."""

__version__ = "0.1.0"
