"""What a probe case is, and the run context its setup and request see.

A case is data: a name, the method and the route template `db.routes.match` tags its request
with, the documented outcome it exercises, a path (`string.Template`: `${p}` is the run's
prefix, `${closed}` a closed loopback port standing in for a registry), a body, and two small
functions: `setup(ctx)` brings the daemon into the state the case needs, `send(ctx, case)`
sends the main request when a plain one will not do (hijacks). `${at}` is empty for a case at
the daemon's own API version and `-at1_41` for its repeat at /v1.41 (objects it makes).
"""

from __future__ import annotations

import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from dockdrift.probe.client import Body, Client, Response

SETUP_SUFFIX = "#setup"
OK = (200, 201, 204, 304)


class SetupFailed(Exception):
    """A setup request did not get the answer the case needs (the case is still sent)."""


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    route: str
    # the outcome it exercises: a documented code ("404"), "(409)" where no table documents
    # one for the situation, "n/a" for a route the Engine does not have
    expect: str
    path: str
    body: Body | Callable[[Ctx], Body] = None
    setup: Callable[[Ctx], None] | None = None
    send: Callable[[Ctx, Case], Response] | None = None
    version: str | None = None  # None: the negotiated one; "" no prefix; "1.22": /v1.22
    # Set on a case repeated at an --api-version (`version@1.41`): that version. Its setups
    # still speak the daemon's own version; `${at}` in its path names its objects apart.
    api: str | None = None
    timeout: float = 30.0
    note: str = ""
    headers: dict[str, str] | None = None


class Vars(dict[str, str]):
    """Template variables; one a failed setup did not set renders as a name that exists nowhere."""

    def __init__(self, prefix: str, **values: str) -> None:
        super().__init__(p=prefix, at="", **values)

    def __missing__(self, key: str) -> str:
        return f"{self['p']}-unset-{key}"


def render_path(template: str, values: Vars) -> str:
    """Fill the template, then percent-encode what a client would (JSON in filters, `!`)."""
    path, sep, query = string.Template(template).substitute(values).partition("?")
    return quote(path, safe="/:@") + (sep + quote(query, safe="=&/:,") if sep else "")


def render_body(body: Any, values: Vars) -> Any:
    if isinstance(body, str):
        return string.Template(body).substitute(values)
    if isinstance(body, dict):
        return {render_body(k, values): render_body(v, values) for k, v in body.items()}
    if isinstance(body, list):
        return [render_body(v, values) for v in body]
    return body


@dataclass
class Ctx:
    client: Client
    prefix: str
    image: str = "busybox:local"
    closed: str = "127.0.0.1:9"  # host:port of a loopback port nothing listens on
    case: str = "preflight"
    vars: Vars = field(init=False)
    made: dict[str, Any] = field(default_factory=dict)  # setups done once per run
    setup_errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        now = int(time.time())
        self.vars = Vars(self.prefix, image=self.image, closed=self.closed,
                         since=str(now - 300), until=str(now))

    def call(self, method: str, template: str, body: Body = None,
             ok: tuple[int, ...] = OK, timeout: float = 30.0) -> Response:
        """A setup or cleanup request (tagged `<case>#setup`); raises SetupFailed if not ok."""
        resp = self.client.request(method, render_path(template, self.vars),
                                   self.case + SETUP_SUFFIX,
                                   render_body(body, self.vars), timeout=timeout)
        if resp.status not in ok:
            raise SetupFailed(f"{method} {template.split('?')[0]} -> {resp.text()}"
                              f"{': ' + _message(resp) if resp.body else ''}")
        return resp

    def once(self, key: str, make: Callable[[], Any]) -> Any:
        """Run `make` the first time `key` is asked for in this run (shared setups)."""
        if key not in self.made:
            self.made[key] = make()
        return self.made[key]


def _message(resp: Response) -> str:
    data = resp.json()
    text = data.get("message") if isinstance(data, dict) else None
    return str(text or resp.body[:120].decode("utf-8", "replace")).strip()[:160]


def send_plain(ctx: Ctx, case: Case) -> Response:
    body = case.body(ctx) if callable(case.body) else render_body(case.body, ctx.vars)
    return ctx.client.request(case.method, render_path(case.path, ctx.vars), case.name, body,
                              version=case.version, timeout=case.timeout,
                              headers=case.headers)


def send_hijack(ctx: Ctx, case: Case) -> Response:
    body = case.body(ctx) if callable(case.body) else render_body(case.body, ctx.vars)
    return ctx.client.hijack(case.method, render_path(case.path, ctx.vars), case.name, body,
                             version=case.version, timeout=case.timeout, headers=case.headers)


WEBSOCKET = {"Upgrade": "websocket", "Sec-WebSocket-Version": "13",
             "Sec-WebSocket-Key": "ZG9ja2RyaWZ0IHByb2JlIQ==", "Origin": "http://localhost"}
