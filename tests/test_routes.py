"""Route matching with gorilla/mux semantics; property tests over every documented template."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from dockdrift.db.routes import Router, default_router, match, split_version, template_regex

_VAR = re.compile(r"\{(\w+)(?::([^}]*))?\}")
segment = st.text(st.characters(whitelist_categories=("Ll", "Lu", "Nd"), whitelist_characters="-_.:"),
                  min_size=1, max_size=20).filter(lambda s: s not in {".", ".."})
greedy = st.lists(segment, min_size=1, max_size=4).map("/".join)
VERSIONS = [None, "1.22", "1.41", "1.55", "3.4.0", "4.3.1", "4.0.0-dev"]


def _fill(template: str, draw) -> str:
    def value(m: re.Match[str]) -> str:
        pattern = m.group(2)
        return draw(greedy) if pattern in (".*", ".+") else draw(segment)
    return _VAR.sub(value, template)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_every_template_matches_a_path_built_from_it(data) -> None:
    router = default_router()
    pick = data.draw(st.randoms(use_true_random=False))  # one draw for every version choice
    for method, template in router.templates():
        if template == "/{anyroute:.*}":
            continue
        path = _fill(template, data.draw)
        # Docker routes take any of these; Podman's libpod ones need a version, its manifest
        # subrouters a 0-3 or a 4-9 one, and the unversioned `/secret/{name}` typo none.
        versions = [v for v in VERSIONS if router.accepts(method, template, v)]
        assert versions, (method, template)
        version = pick.choice(versions)
        full = f"/v{version}{path}" if version else path
        m = router.match(method, full)
        assert m.api_version == version
        # Maps back to itself, or to an earlier template that also matches (mux: first wins).
        assert m.route is not None
        assert re.fullmatch(template_regex(m.route), path, re.S), (method, template, path, m)
        if m.route != template:
            earlier = [t for meth, t in router.templates() if meth == method]
            assert earlier.index(m.route) < earlier.index(template)


def test_examples_from_the_issue() -> None:
    m = match("POST", "/v1.41/containers/abc/start")
    assert (m.api_version, m.route, m.handler) == ("1.41", "/containers/{name:.*}/start",
                                                   "postContainersStart")
    assert match("GET", "/containers/x/json").handler == "getContainerJSON"
    img = match("GET", "/v1.41/images/library/ubuntu:22.04/json")
    assert img.route == "/images/{name:.*}/json" and img.source == "seed-v1.22"


def test_engine_tables_cover_routes_the_document_lacks() -> None:
    assert match("HEAD", "/_ping").route == "/_ping"
    assert match("HEAD", "/_ping").source.startswith("spec-")
    assert match("GET", "/_ping").source == "seed-v1.22"
    assert match("GET", "/v1.41/swarm").handler == "inspectCluster"
    assert match("GET", "/v1.41/services/abc").route == "/services/{id}"


def test_method_must_match_exactly() -> None:
    assert match("HEAD", "/containers/x/json").route is None  # no HEAD -> GET fallback
    assert match("PATCH", "/containers/x/start").route is None


def test_unknown_paths_keep_their_version() -> None:
    m = match("GET", "/v1.41/no/such/thing")
    assert (m.api_version, m.route, m.handler, m.source) == ("1.41", None, None, None)


def test_query_and_percent_encoding() -> None:
    assert match("GET", "/v1.41/containers/json?all=1&filters=%7B%7D").route == "/containers/json"
    m = match("DELETE", "/v1.41/images/localhost%3A5000%2Ffoo%2Fbar")
    assert m.route == "/images/{name:.*}"
    assert match("GET", "/v1.41/containers/a%2Fb/json").route == "/containers/{name:.*}/json"


def test_single_segment_variable_does_not_cross_slashes() -> None:
    router = Router([("GET", "/services/{id}", "svc", "t")])
    assert router.match("GET", "/services/abc").route == "/services/{id}"
    assert router.match("GET", "/services/a/b").route is None


def test_first_match_wins_like_mux() -> None:
    router = Router([("GET", "/a/{x:.*}", "greedy", "t"), ("GET", "/a/b", "literal", "t")])
    assert router.match("GET", "/a/b").handler == "greedy"


def test_split_version() -> None:
    assert split_version("/v1.41/info") == ("1.41", "/info")
    assert split_version("/v1.41") == (None, "/v1.41")
    assert split_version("/version") == (None, "/version")


# --- Podman ---------------------------------------------------------------------------------


def test_podman_libpod_routes_are_tagged_from_its_table() -> None:
    m = match("GET", "/v4.0.0/libpod/containers/json")
    assert (m.api_version, m.route, m.handler, m.source) == (
        "4.0.0", "/libpod/containers/json", "libpod.ListContainers", "podman-v4.3.1")
    assert match("GET", "/v4.3.1/libpod/info").route == "/libpod/info"
    assert match("GET", "/v1.41/libpod/info").source == "podman-v4.3.1"  # any version shape
    ping = match("GET", "/libpod/_ping")  # the only libpod route registered without /v{version}
    assert (ping.api_version, ping.route, ping.source) == (None, "/libpod/_ping", "podman-v4.3.1")
    assert match("HEAD", "/libpod/_ping").route == "/libpod/_ping"
    assert match("GET", "/libpod/info").route is None  # Podman: 404 without the prefix
    assert match("GET", "/v4.3.1/libpod/images/library/busybox:local/json").route == (
        "/libpod/images/{name:.*}/json")
    assert match("GET", "/v4.3.1/libpod/containers/a/b/json").route is None  # {name}: no /


def test_compat_requests_keep_the_docker_template() -> None:
    """The same request gets the same template whichever server answers it."""
    for method, path in [("GET", "/v1.41/containers/web/json"), ("POST", "/containers/x/start"),
                         ("HEAD", "/_ping"), ("GET", "/v1.41/volumes/data"),
                         ("DELETE", "/v1.41/secrets/abc"), ("GET", "/v1.41/plugins")]:
        assert match(method, path).source.startswith(("seed-", "spec-")), (method, path)


def test_podman_registration_quirks() -> None:
    # its manifest subrouters: v0-3 and v4-9 register different routes
    assert match("POST", "/v3.4.0/libpod/manifests/create").route == "/libpod/manifests/create"
    assert match("POST", "/v4.3.1/libpod/manifests/create").route == "/libpod/manifests/{name:.*}"
    assert match("POST", "/v4.3.1/libpod/manifests/l/push").route == "/libpod/manifests/{name:.*}"
    # the DELETE /secrets/{name} typo: unversioned only, where Docker has no such route
    assert match("DELETE", "/secret/abc").route == "/secret/{name}"
    assert match("DELETE", "/v1.41/secret/abc").route is None
    # Podman's version pattern is wider than Docker's; Docker would answer 404
    m = match("GET", "/v4.0.0-dev/containers/json")
    assert (m.api_version, m.route, m.source) == ("4.0.0-dev", "/containers/json",
                                                  "podman-v4.3.1")
    # Podman matches the still-encoded path: %2F stays inside one {name} segment
    assert match("GET", "/v4.3.1/libpod/containers/a%2Fb/json").route == (
        "/libpod/containers/{name}/json")


def test_podman_catch_alls_do_not_tag() -> None:
    """`*` rows (noSwarm, UnsupportedHandler) would tag paths Docker answers 404 to."""
    for method, path in [("POST", "/v1.41/swarm/nope"), ("GET", "/services/a/b"),
                         ("POST", "/plugins"), ("GET", "/monitor"),
                         ("POST", "/distribution/x/json")]:
        assert match(method, path).route is None, (method, path)


def test_docker_tagging_is_unchanged_by_podman() -> None:
    """Every Docker template built into a path tags exactly as the Docker tables alone do."""
    from dockdrift.db.routes import table_rows

    docker_only = Router(table_rows())
    for method, template in docker_only.templates():
        path = _VAR.sub(lambda m: "a/b" if m.group(2) in (".*", ".+") else "x", template)
        for full in (path, f"/v1.41{path}"):
            assert match(method, full) == docker_only.match(method, full), (method, full)
