# pystemd.futures 1: cpu_waste
# A function that burns one CPU for a while; it ships with the shell, written in its own language.
#
# `ppcode cpu_waste` shows its source. Watch htop meanwhile: 100% of a CPU for 5 s.

cpu_waste
#> <function cpu_waste at src/lang/prelude/futures.rsh:6>

cpu_waste(5)
#> 18446744073709551615

type(_)
#> 'uint64'
