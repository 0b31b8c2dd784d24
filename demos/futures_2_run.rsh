# pystemd.futures 2: run a function inside a unit
# The same function in a worker inside a transient unit, as nobody, with 10% of one CPU.
#
# The workshop runs it for 60 s: htop shows the worker at ~10%, as nobody, and
# `systemctl status PID` names its unit. The unit is gone afterwards.

pystemd.futures.run(cpu_waste, {"CPUQuota": 0.1, "User": "nobody"}, 10)
#> 18446744073709551615

pystemd.futures.run(os.getuid, {"User": "nobody"})
#> 65534
