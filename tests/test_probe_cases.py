"""The probe's case table, checked without any server: names, routes, coverage of the seed."""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import parse_qs, urlsplit

import pytest

from dockdrift.db import routes, tables
from dockdrift.probe.cases import CASES, PROBE_VERSION, select
from dockdrift.probe.client import BAD_JSON, Client
from dockdrift.probe.model import Vars, render_body, render_path

PREFIX = "ddprobe-0a1b2c"
# Routes whose success needs a registry (never reachable from the probe): errors only.
NEEDS_A_REGISTRY = {("POST", "/images/{name:.*}/push"), ("POST", "/auth"),
                    ("GET", "/images/search")}
# Routes whose only documented error (500) the probe cannot cause: a success case only.
NEEDS_A_SUCCESS_ONLY = {("GET", "/version"), ("GET", "/info")}


def full_path(case) -> str:
    values = Vars(PREFIX, image="busybox:local", closed="127.0.0.1:9", since="1", until="2",
                  exec="0123abcd")
    return Client("127.0.0.1", 1, "1.41").full_path(render_path(case.path, values),
                                                    case.version)


def test_names_unique_and_well_formed():
    counts = Counter(c.name for c in CASES)
    assert [n for n, k in counts.items() if k > 1] == []
    assert all(n and n == n.lower() and " " not in n and "#" not in n for n in counts)
    assert PROBE_VERSION == "2"  # 2: the cases since API 1.41 and the --api-version repeats


def test_every_route_template_is_known_to_db_routes():
    known = set(routes.default_router().templates())
    assert [(c.method, c.route) for c in CASES if (c.method, c.route) not in known] == []


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_request_path_tags_to_the_declared_route(case):
    m = routes.match(case.method, full_path(case))
    assert m.route == case.route, full_path(case)
    assert m.api_version == (case.version if case.version is not None else "1.41")


def test_at_least_50_seed_routes_covered_each_with_a_success_and_an_error():
    seed = {(r.method, r.route) for r in tables.read_seed()}
    covered = {(c.method, c.route) for c in CASES} & seed
    assert len(seed) == 58 and len(covered) >= 50, sorted(seed - covered)
    by_route: dict[tuple[str, str], set[str]] = {}
    for c in CASES:
        by_route.setdefault((c.method, c.route), set()).add(c.expect[0])
    lacking = {k for k in covered if not ({"1", "2"} & by_route[k]) and "n" not in by_route[k]}
    assert lacking == NEEDS_A_REGISTRY
    no_error = {k for k in covered if not by_route[k] - {"1", "2"}}
    assert no_error == NEEDS_A_SUCCESS_ONLY


def test_every_object_name_carries_the_run_prefix():
    """Whatever a case creates is named from ${p}; the registries are closed loopback ports."""
    for case in CASES:
        path = full_path(case)
        query = parse_qs(urlsplit(path).query)
        for key in ("name", "repo", "t", "fromImage", "term"):
            for value in query.get(key, []) if not (key == "t" and "/build" not in path) else []:
                assert value.startswith((PREFIX, "127.0.0.1:9/")), (case.name, value)
        body = case.body if isinstance(case.body, dict) else {}
        if "Name" in body:
            assert body["Name"].startswith("${p}-"), case.name
        assert "/prune" not in path


def test_select_keeps_table_order_and_rejects_unknown_names():
    assert [c.name for c in select(["version", "ping"])] == ["ping", "version"]
    with pytest.raises(KeyError):
        select(["no-such-case"])


def _shape(route: str) -> str:
    return re.sub(r"\{[^{}:]+(:[^{}]*)?\}", "{}", route)


def test_expect_is_documented_unless_in_parentheses():
    """`expect` is a code the documentation lists for the route (seed or any Engine spec);
    `(409)` marks an outcome no table documents, `n/a` a route the Engine does not have."""
    documented: dict[tuple[str, str], set[int]] = {}
    rows = list(tables.read_seed()) + [r for v in tables.spec_files() for r in tables.read_spec(v)]
    for r in rows:
        documented.setdefault((r.method, _shape(r.route)), set()).update(
            (r.engine_codes or ()) + (r.swarm_codes or ()))
    wrong = []
    for c in CASES:
        codes = documented[(c.method, _shape(c.route))]
        if c.expect == "n/a":
            continue
        marked = c.expect.startswith("(") and c.expect.endswith(")")
        code = int(c.expect.strip("()"))
        if marked == (code in codes):
            wrong.append((c.name, c.expect, sorted(codes)))
    assert wrong == []


def test_every_registry_the_cases_name_is_the_closed_loopback_port():
    """Push, pull, search and /auth only ever name ${closed}: nothing leaves this machine."""
    registry_routes = {"/images/{name:.*}/push", "/auth", "/images/search"}
    values = Vars(PREFIX, image="busybox:local", closed="127.0.0.1:9")
    for case in CASES:
        path = full_path(case)
        body = render_body(case.body, values) if isinstance(case.body, dict) else {}
        if (case.route in registry_routes and case.body is not BAD_JSON) or "fromImage=" in path:
            named = path + "|" + str(body.get("serveraddress", ""))
            assert "127.0.0.1:9/" in named or "|http://127.0.0.1:9" in named, case.name
        assert "docker.io" not in path + str(body), case.name


def test_api_version_repeats_are_named_and_sent_at_their_version():
    """`version@1.41` is `version` sent at /v1.41 (setups at the daemon's own version); the
    default run repeats the AT_VERSIONS cases at 1.24, 1.41 and 1.44; any case@X.Y can be named."""
    from dockdrift.probe.cases import API_VERSIONS, AT_VERSIONS, check_version, table

    run = table()
    repeats = [c for c in run if c.api]
    assert API_VERSIONS == ("1.24", "1.41", "1.44")
    assert len(repeats) == 3 * len(AT_VERSIONS) and len(run) == len(CASES) + len(repeats)
    (v41,) = select(["version@1.41"])
    assert (v41.version, v41.api, v41.route) == ("1.41", "1.41", "/version")
    assert full_path(v41) == "/v1.41/version"
    assert [c.name for c in select(["stop-missing@1.30", "ping"])] == ["ping", "stop-missing@1.30"]
    assert [c.name for c in select(["ping"], [])] == ["ping"]
    for bad in ("copy@1.41", "nosuch@1.41", "ping@x"):  # copy has its own version (1.22)
        with pytest.raises(KeyError):
            select([bad])
    assert check_version("v1.44") == "1.44"
    with pytest.raises(ValueError):
        check_version("1")


def test_cases_since_1_41_name_their_objects_per_version():
    """A repeated create makes `<prefix>-mac-at1_41`, not the base case's `<prefix>-mac`."""
    (case,) = select(["create-mac-address@1.41"])
    values = Vars(PREFIX, image="busybox:local", closed="127.0.0.1:9")
    values["at"] = "-at1_41"
    assert render_path(case.path, values).endswith(f"name={PREFIX}-mac-at1_41")
    assert render_path(select(["create-mac-address"])[0].path,
                       Vars(PREFIX)).endswith(f"name={PREFIX}-mac")
