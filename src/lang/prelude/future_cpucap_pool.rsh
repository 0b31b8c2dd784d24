# pystemd's examples/future_cpucap_pool.py in rustemd-shell's language: six jobs on a pool of
# workers that share one unit (User=nobody, one CPUQuota for all of them), watched live.
import time


def run(timeout):
    """This just uses a lot of CPU (the same as cpu_waste)."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        2**64 - 1

    return timeout


def main(cpu_quota=0.25, max_workers=10, timeouts=(5, 10, 15, 20, 25, 30)):
    """Run one job per timeout on a pool sharing one CPU quota; watch it; their results."""
    with pystemd.futures.TransientUnitPoolExecutor(
        properties={"CPUQuota": cpu_quota, "User": "nobody"},
        max_workers=max_workers,
    ) as poold:
        jobs = [poold.submit(run, t) for t in timeouts]
        unit_top(poold.unit, until=jobs)
    return [job.result() for job in jobs]
