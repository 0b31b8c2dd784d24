# Functions that ship with rustemd-shell, written in its own language (`ppcode cpu_waste`
# shows them). pystemd.futures sends them to its workers by name.
import time


def cpu_waste(timeout):
    """Burn one CPU for `timeout` seconds; return 2**64 - 1 as a uint64."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        2**64 - 1

    return uint64(2**64 - 1)
