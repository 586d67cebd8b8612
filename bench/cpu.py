"""`python -m bench.cpu booking_create|journey|reserve_race`: where one unit of work spends its CPU.

Runs one scenario on a fresh bench stack and divides the CPU time each process used (from
/proc, user + system) by the units of work done: milliseconds per booking, per journey or
per reservation, for every service, each gateway worker, RabbitMQ, PostgreSQL and the load
generator. `--spy NAME[,NAME...]` (or `--spy all`) also records a py-spy profile of those processes
(GIL-holding samples, so roughly their CPU time) to bench/results/spy-NAME.txt (py-spy is not a dependency:
`.venv/bin/pip install py-spy`).
"""
import argparse
import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

from bench import scenarios
from bench.baselines import ProcessCpu
from bench.load import closed_loop
from bench.stack import RESULTS, BenchStack

UNITS = {"booking_create": "booking", "journey": "journey", "reserve_race": "reservation"}


def run(scenario: str, seconds: int, spy: str | None, journeys: int = 60, processes: int = 1) -> dict:
    from gateway.auth import issue_token
    from tests.support.gateway import Api

    from bench.__main__ import reference_loop_ms

    speed_before = reference_loop_ms()
    with BenchStack(processes=processes) as stack:
        world = scenarios.World(stack, Api.as_role(stack.url, "admin"))
        headers = {"Authorization": "Bearer " + issue_token("advisor", "bench", branch_id=scenarios.BRANCH)}
        counter = iter(range(10**8))

        def booking(_):
            return "POST", "/api/v1/bookings", world.booking(next(counter)), headers

        asyncio.run(closed_loop(stack.url, booking, 32, 3))  # warm the caches and connections
        processes = stack.watched()
        profilers = []
        for name in (processes if spy == "all" else spy.split(",")) if spy else ():
            if not isinstance(processes.get(name), int):
                continue
            py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
            profilers.append(subprocess.Popen(
                [py_spy, "record", "--gil", "-r", "100", "-d", str(seconds), "-f", "raw",
                 "-o", str(RESULTS / f"spy-{name}.txt"), "-p", str(processes[name])],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        # the journey and the race measure their own CPU per unit (bench.baselines.MachineWatch)
        if scenario == "booking_create":
            with ProcessCpu(processes) as cpu:
                result = asyncio.run(closed_loop(stack.url, booking, 32, seconds))
            units, rate, per_unit = result.ok, result.summary()["requests_per_s"], cpu.per_unit(result.ok)
        elif scenario == "journey":
            figures = scenarios.journeys(stack, journeys, 16)
            units, rate, per_unit = figures["journeys"], figures["journeys_per_s"], figures["cpu_ms_per_unit"]
        else:
            figures = scenarios.reserve_race(stack, 1000, 400)
            units, rate, per_unit = figures["handled"], figures["reservations_per_s"], figures["cpu_ms_per_unit"]
        for profiler in profilers:
            profiler.wait()
    total = per_unit.pop("all")
    return {"scenario": scenario, "rate": rate, "units": units, "ms_per_unit": per_unit,
            "total_ms": total, "reference_loop_ms": (speed_before, reference_loop_ms())}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", choices=sorted(UNITS))
    parser.add_argument("--seconds", type=int, default=15, help="booking_create's duration")
    parser.add_argument("--journeys", type=int, default=60, help="journey's count (more gives steadier figures)")
    parser.add_argument("--processes", type=int, default=1, help="processes of every service (default 1)")
    parser.add_argument("--spy", metavar="NAME", help="py-spy these processes too: booking, gateway-worker-1, ... (comma-separated) or all")
    args = parser.parse_args(argv)
    figures = run(args.scenario, args.seconds, args.spy, args.journeys, args.processes)
    unit = UNITS[args.scenario]
    print(f"{args.scenario}: {figures['rate']} {unit}s/s over {figures['units']} {unit}s; CPU ms per {unit}:")
    for name, ms in figures["ms_per_unit"].items():
        print(f"  {name:<20} {ms:8.3f}")
    print(f"  {'all':<20} {figures['total_ms']:8.3f}")
    print("reference loop {} ms before, {} ms after (the machine's speed; lower is faster)".format(
        *figures["reference_loop_ms"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
