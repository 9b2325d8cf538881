from jitprof.cli import main

main()
