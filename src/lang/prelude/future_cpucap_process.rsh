# pystemd's examples/future_cpucap_process.py in rustemd-shell's language: one process in a
# unit of its own (User=nobody, CPUQuota), watched live until it ends.
import time


def waste(timeout):
    """This is supposed to waste a bunch of CPU."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        2**64 - 1


def Process(timeout, properties):
    """The example's Process class: a TransientUnitProcess whose run wastes CPU."""
    return pystemd.futures.TransientUnitProcess(
        target=waste, args=(timeout,), properties=properties
    )


def main(cpu_quota=0.2, timeout=30):
    """Waste CPU in a process of its own under a quota; watch it; its exit code."""
    p = Process(timeout=timeout, properties={"CPUQuota": cpu_quota, "User": "nobody"})
    p.start()
    unit_top(p.unit, until=p)
    p.join()
    return p.exitcode
