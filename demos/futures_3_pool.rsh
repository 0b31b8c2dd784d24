# pystemd.futures 3: a pool of workers under one quota
# Six jobs on workers that share one unit (User=nobody, CPUQuota=25%), with a live top of its processes against the quota line.
#
# `ppcode future_cpucap_pool.main` shows the code (pystemd's examples/future_cpucap_pool.py).

help future_cpucap_pool.main
#> usage: future_cpucap_pool.main(...)
#> ...
#> Written in rustemd-shell's language: src/lang/prelude/...

future_cpucap_pool.main()
#> unit_top: rustemd-pool-... ran 7 processes as nobody: ...; CPUQuota=25% (enforced by the kernel: 25000µs per 100000µs)
#> [5, 10, 15, 20, 25, 30]
