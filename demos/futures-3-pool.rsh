# pystemd.futures, step 3: six jobs on a pool of workers sharing one unit (User=nobody,
# CPUQuota=25% for all of them), with a live top of the unit's processes and its CPU against
# the quota line (`ppcode future_cpucap_pool.main` shows the code).
future_cpucap_pool.main()
#> unit_top: rustemd-pool-... ran 7 processes as nobody: ...; CPUQuota=25% (enforced by the kernel: 25000µs per 100000µs)
#> [5, 10, 15, 20, 25, 30]
