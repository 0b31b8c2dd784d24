# pystemd.futures 4: a process in a unit of its own
# multiprocessing's Process as a TransientUnitProcess (User=nobody, CPUQuota=20%), watched until it ends.
#
# `ppcode future_cpucap_process.main` shows the code (pystemd's examples/future_cpucap_process.py).

help future_cpucap_process.main
#> usage: future_cpucap_process.main(...)
#> ...
#> Written in rustemd-shell's language: src/lang/prelude/...

future_cpucap_process.main()
#> unit_top: rustemd-future-... ran 2 processes as nobody: ...; CPUQuota=20% (enforced by the kernel: 20000µs per 100000µs)
#> 0
