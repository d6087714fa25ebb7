"""Route matching with gorilla/mux semantics; property tests over every documented template."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from db.routes import Router, default_router, match, split_version, template_regex

_VAR = re.compile(r"\{(\w+)(?::([^}]*))?\}")
segment = st.text(st.characters(whitelist_categories=("Ll", "Lu", "Nd"), whitelist_characters="-_.:"),
                  min_size=1, max_size=20).filter(lambda s: s not in {".", ".."})
greedy = st.lists(segment, min_size=1, max_size=4).map("/".join)


def _fill(template: str, draw) -> str:
    def value(m: re.Match[str]) -> str:
        pattern = m.group(2)
        return draw(greedy) if pattern in (".*", ".+") else draw(segment)
    return _VAR.sub(value, template)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_every_template_matches_a_path_built_from_it(data) -> None:
    router = default_router()
    for method, template in router.templates():
        if template == "/{anyroute:.*}":
            continue
        path = _fill(template, data.draw)
        version = data.draw(st.sampled_from([None, "1.22", "1.41", "1.55"]))
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
