"""`python -m bench.console`: the console's figures for docs/benchmarks.md.

1. Time to first render of a board (the day board unless --board says otherwise) at a branch
   with 200 open repair orders: the server's answer (median and worst of 10), and in Debian's
   Chromium the navigation's response end, first contentful paint and load event.
2. The API's booking_create with 50 boards of that branch left open against none, in turns
   (none, open, none, open): a board left open polls the change feed every 2 s and fetches its
   content again when its branch moved on, as console.js does.
"""
import argparse
import asyncio
import json
import statistics
import threading
import time
from datetime import datetime, timezone

import requests

from bench import scenarios
from bench.load import closed_loop, Result
from bench.stack import BenchStack

LOGIN, PASSWORD = "bench-advisor", "bench-console-password"
BOARDS = {"day": "/console/day", "workshop": "/console/workshop"}


def open_orders(admin, world, count):
    """`count` bookings checked in at the bench branch: as many repair orders open there."""
    for i in range(count):
        booking = admin.ok("POST", "/bookings", world.booking(10_000 + i), status=201)
        admin.ok("POST", f"/bookings/{booking['booking_id']}/check-in",
                 {"odometer_km": 10_000 + i, "fault_description": f"bench order {i}"})
    scenarios._until(lambda: len(admin.get("/repair-orders", branch_id=scenarios.BRANCH, status="checked_in",
                                           limit=200).json()["items"]) >= min(count, 200), timeout=120)


def signed_in(url) -> requests.Session:
    session = requests.Session()
    answer = session.post(url + "/console/sign-in", data={"login": LOGIN, "password": PASSWORD}, allow_redirects=False)
    if answer.status_code != 302:
        raise RuntimeError(f"sign-in refused: {answer.status_code}")
    return session


def server_render(url, path, rounds=10) -> dict:
    session = signed_in(url)
    seconds = []
    for _ in range(rounds):
        started = time.perf_counter()
        answer = session.get(url + path)
        seconds.append(time.perf_counter() - started)
        if answer.status_code != 200:
            raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:300]}")
    return {"median_ms": round(statistics.median(seconds) * 1000, 1), "max_ms": round(max(seconds) * 1000, 1),
            "bytes": len(answer.content), "rounds": rounds}


def browser_render(url, path) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
        page = browser.new_context(base_url=url).new_page()
        page.goto("/console/sign-in")
        page.fill("#login", LOGIN)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        page.goto(path, wait_until="load")
        timing = page.evaluate("""() => {
            const n = performance.getEntriesByType('navigation')[0];
            const paint = performance.getEntriesByName('first-contentful-paint')[0];
            return {response_end_ms: n.responseEnd, first_contentful_paint_ms: paint ? paint.startTime : null,
                    load_event_ms: n.loadEventEnd, cards: document.querySelectorAll('article, tr').length};
        }""")
        browser.close()
    return {k: round(v, 1) if isinstance(v, float) else v for k, v in timing.items()}


class OpenBoards:
    """`count` boards left open, each a thread behaving as console.js: poll, refetch on a change."""

    def __init__(self, url, path, count, poll_seconds=2.0):
        self.url, self.path, self.count, self.poll = url, path, count, poll_seconds
        self.polls = self.refreshes = self.failures = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def __enter__(self):
        first = signed_in(self.url)  # one person's boards: the same session cookie in every one
        sessions = []
        for _ in range(self.count):
            session = requests.Session()
            session.cookies.update(first.cookies)
            sessions.append(session)
        self._threads = [threading.Thread(target=self._board, args=(s, i), daemon=True) for i, s in enumerate(sessions)]
        for thread in self._threads:
            thread.start()
        return self

    def _board(self, session, i):
        self._stop.wait(self.poll * i / self.count)  # boards opened one after another, not in step
        seen = 0.0
        changes = self.url + f"/console/changes?branch={scenarios.BRANCH}"
        fragment = self.url + self.path + ("&" if "?" in self.path else "?") + "fragment=1"
        while not self._stop.is_set():
            try:
                stamp = session.get(changes, timeout=10).json()["stamp"]
                counted = ["polls"]
                if stamp > seen:
                    seen = stamp
                    if session.get(fragment, timeout=30).status_code == 200:
                        counted.append("refreshes")
                with self._lock:
                    for name in counted:
                        setattr(self, name, getattr(self, name) + 1)
            except (requests.RequestException, ValueError, KeyError):
                with self._lock:
                    self.failures += 1
            self._stop.wait(self.poll)

    def __exit__(self, *exc):
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=35)


def booking_create_with_boards(stack, world, token, path, boards, seconds, clients, turns):
    headers = {"Authorization": f"Bearer {token}"}
    counter = iter(range(20_000, 10**8))

    def request(_):
        return "POST", "/api/v1/bookings", world.booking(next(counter)), headers

    none, opened, board_load = [], [], {"polls": 0, "refreshes": 0, "failures": 0, "seconds": 0.0}
    for _ in range(turns):
        none.append(asyncio.run(closed_loop(stack.url, request, clients, seconds / turns)))
        with OpenBoards(stack.url, path, boards) as open_boards:
            time.sleep(2.5)  # every board has polled once and rendered its first view
            started = time.monotonic()
            opened.append(asyncio.run(closed_loop(stack.url, request, clients, seconds / turns)))
            board_load["seconds"] += time.monotonic() - started
        for name in ("polls", "refreshes", "failures"):
            board_load[name] += getattr(open_boards, name)
    none, opened = Result.merged(none).summary(), Result.merged(opened).summary()
    return {"boards": boards, "turns": turns, "seconds_each": seconds, "no_boards": none, "boards_open": opened,
            "board_traffic": board_load,
            "ratio": round(opened["requests_per_s"] / max(none["requests_per_s"], 0.1), 3)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--board", choices=sorted(BOARDS), default="day")
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--boards", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--turns", type=int, default=2)
    args = parser.parse_args()
    from gateway.auth import issue_token
    from gateway.store import GatewayStore
    from pitlane import staff
    from tests.support.gateway import Api

    path = BOARDS[args.board] + f"?branch={scenarios.BRANCH}"
    results = {"when": datetime.now(timezone.utc).isoformat(timespec="seconds"), "board": args.board,
               "orders": args.orders}
    with BenchStack(gateway_port=18090) as stack:
        admin = Api.as_role(stack.url, "admin")
        world = scenarios.World(stack, admin)
        store = GatewayStore(pool_size=1)
        staff.add(store, LOGIN, "Bench Advisor", PASSWORD, "advisor", scenarios.BRANCH)
        store.pool.close()
        open_orders(admin, world, args.orders)
        results["server_render"] = server_render(stack.url, path)
        results["first_render"] = browser_render(stack.url, path)
        token = issue_token("advisor", "bench", branch_id=scenarios.BRANCH)
        results["booking_create"] = booking_create_with_boards(stack, world, token, path, args.boards, args.seconds,
                                                               args.clients, args.turns)
    print(json.dumps(results, indent=2))
    out = scenarios.__file__.rsplit("/", 1)[0] + f"/results/console-{results['when'].replace(':', '')}.json"
    with open(out, "w") as f:
        json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
