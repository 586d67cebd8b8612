"""Malformed and boundary input to every endpoint of the live API finds no 5xx (hypothesis)."""
import re
import time
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.routes import ROUTES
from tests.support.gateway import Api, GatewayProcess

EXAMPLES = int(__import__("os").environ.get("PITLANE_FUZZ_EXAMPLES", "12"))

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40), st.just(""), st.just("x" * 5000),
    st.just(str(uuid.uuid4())), st.just("2026-11-23T08:00:00+00:00"), st.just("1e400"), st.just("\u0000"),
    st.just("'; DROP TABLE bookings; --"),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8),
                                                                                             inner, max_size=4),
                      max_leaves=8)


def body_for(route):
    names = list(route.body().fields) if route.body else ["anything"]
    keyed = st.fixed_dictionaries({}, optional={name: values for name in names})
    return st.one_of(keyed, values)


def path_for(route, data):
    return re.sub(r"<(\w+)>", lambda m: data.draw(st.sampled_from(
        [str(uuid.uuid4()), "not-an-id", "%20", "E2E-B1", "0" * 300])), route.path)


@pytest.fixture(scope="module")
def fuzz_admin(gateway, world):
    return Api.as_role(gateway.url, "admin")


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_no_route_answers_5xx(fuzz_admin, world, route):
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(data=st.data())
    def probe(data):
        path = path_for(route, data)
        if route.method == "GET":
            query = data.draw(st.dictionaries(st.sampled_from(
                ["branch_id", "status", "from", "to", "cursor", "limit", "date", "q", "customer_id", "below_reorder"]),
                st.text(max_size=30), max_size=4))
            response = fuzz_admin.get(path, **query)
        else:
            response = fuzz_admin.post(path, data.draw(body_for(route)))
        assert response.status_code < 500, f"{route.method} {path}: {response.status_code} {response.text[:300]}"
        assert response.headers["Content-Type"].startswith("application/json")

    probe()


def test_a_silent_service_is_503_with_retry_after_not_a_hang(run_env, world):
    """A gateway whose services never answer (an empty vhost) answers 503 within its timeout."""
    from tests.support import infra

    vhost = f"{run_env['amqp'].rsplit('/', 1)[1]}-silent"
    infra.create_vhost(vhost)
    silent = GatewayProcess(env={"PITLANE_AMQP_URI": run_env["amqp"].rsplit("/", 1)[0] + "/" + vhost,
                                 "PITLANE_RPC_TIMEOUT": "1"}).start()
    try:
        api = Api.as_role(silent.url, "admin")
        started = time.monotonic()
        response = api.get("/bookings")
        assert response.status_code == 503 and response.headers["Retry-After"] == "5"
        assert response.json()["error"]["code"] == "unavailable"
        assert time.monotonic() - started < 5
        assert api.get("/bookings").status_code == 503  # and again: the proxy recovered from its timeout
    finally:
        silent.stop()
        infra.delete_vhost(vhost)
