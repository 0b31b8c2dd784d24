# pystemd.futures, step 4: multiprocessing's Process in a unit of its own (User=nobody,
# CPUQuota=20%), watched live until it ends (`ppcode future_cpucap_process.main`).
future_cpucap_process.main()
#> unit_top: rustemd-future-... ran 2 processes as nobody: ...; CPUQuota=20% (enforced by the kernel: 20000µs per 100000µs)
#> 0
