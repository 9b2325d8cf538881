"""Stage 2, symbols: the tables that name addresses (perf maps, jitdumps, ELF, kallsyms)."""
