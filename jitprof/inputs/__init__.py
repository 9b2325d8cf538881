"""Stage 0, inputs: what each input is (perf script text, perf.data, JSON profile, bundle)."""
