"""Probe cases for the system routes, API versions, exec, networks and volumes."""

from __future__ import annotations

from dockdrift.probe import setups as s
from dockdrift.probe.client import BAD_JSON
from dockdrift.probe.model import Case, send_hijack

NET, VOL, EX = "/networks/{networkid:.*}", "/volumes/{volumename:.*}", "/exec/{execid:.*}"
ME = "${p}-missing"
RUNNING = "${p}-running"
EVENTS = "/events?since=${since}&until=${until}"


def _net(c):
    s.network(c, "net")
    s.container(c, "created")


def _connected(c):
    _net(c)
    c.call("POST", "/networks/${p}-net/connect", {"Container": "${p}-created"}, ok=s.ANY)


def _busy_net(c):
    net, name = s.network(c, "busynet"), s.live(c)
    c.call("POST", f"/networks/{net}/connect", {"Container": name}, ok=s.ANY)


def _vol_in_use(c):
    vol = s.volume(c, "vol")
    s.container(c, "voluser", HostConfig={"Binds": [f"{vol}:/data"]})


SYSTEM: tuple[Case, ...] = (
    Case("ping", "GET", "/_ping", "200", "/_ping"),
    Case("version", "GET", "/version", "200", "/version"),
    Case("info", "GET", "/info", "200", "/info"),
    Case("events", "GET", "/events", "200", EVENTS, timeout=10),
    Case("events-bad-filter", "GET", "/events", "400", EVENTS + "&filters={bad", timeout=10),
    # /_ping rather than /version: the same version check, and Podman takes seconds per /version
    Case("unsupported-api-version", "GET", "/_ping", "(400)", "/_ping", version="1.0",
         note="below every implementation's minimum"),
    Case("api-version-too-new", "GET", "/_ping", "(400)", "/_ping", version="9.99"),
    Case("api-version-old", "GET", "/_ping", "200", "/_ping", version="1.22",
         note="the source document's version"),
)

EXEC: tuple[Case, ...] = (
    Case("exec-create", "POST", "/containers/{name:.*}/exec", "201",
         f"/containers/{RUNNING}/exec", {"Cmd": ["true"]}, setup=lambda c: s.live(c)),
    Case("exec-in-stopped", "POST", "/containers/{name:.*}/exec", "409",
         "/containers/${p}-created/exec", {"Cmd": ["true"]},
         setup=lambda c: s.container(c, "created")),
    Case("exec-in-paused", "POST", "/containers/{name:.*}/exec", "409",
         "/containers/${p}-pauser/exec", {"Cmd": ["true"]},
         setup=lambda c: s.paused(c, "pauser")),
    Case("exec-create-missing", "POST", "/containers/{name:.*}/exec", "404",
         f"/containers/{ME}/exec", {"Cmd": ["true"]}),
    Case("exec-inspect", "GET", f"{EX}/json", "200", "/exec/${exec}/json",
         setup=lambda c: s.exec_created(c, "exec", ["true"])),
    Case("exec-inspect-missing", "GET", f"{EX}/json", "404", f"/exec/{ME}/json"),
    Case("exec-start", "POST", f"{EX}/start", "(101)", "/exec/${exec}/start",
         {"Detach": False, "Tty": False}, send=send_hijack, timeout=10,
         setup=lambda c: s.exec_created(c, "exec", ["echo", "dockdrift probe"])),
    Case("exec-start-detached", "POST", f"{EX}/start", "200", "/exec/${exec}/start",
         {"Detach": True, "Tty": False}, setup=lambda c: s.exec_created(c, "exec", ["true"])),
    Case("exec-start-twice", "POST", f"{EX}/start", "409", "/exec/${exec}/start",
         {"Detach": True, "Tty": False},
         setup=lambda c: s.exec_started(c, "exec", ["sleep", "5"])),
    Case("exec-start-missing", "POST", f"{EX}/start", "404", f"/exec/{ME}/start",
         {"Detach": True, "Tty": False}),
    Case("exec-resize", "POST", f"{EX}/resize", "201", "/exec/${exec}/resize?h=24&w=80",
         setup=lambda c: s.exec_started(c, "exec", ["sleep", "5"], Tty=True)),
    Case("exec-resize-missing", "POST", f"{EX}/resize", "404",
         f"/exec/{ME}/resize?h=24&w=80"),
)

NETWORKS: tuple[Case, ...] = (
    Case("networks-list", "GET", "/networks", "200", "/networks"),
    Case("networks-list-bad-filter", "GET", "/networks", "400", "/networks?filters={bad"),
    Case("network-create", "POST", "/networks/create", "201", "/networks/create",
         {"Name": "${p}-net2", "CheckDuplicate": True, "Labels": {s.LABEL: "${p}"}}),
    Case("network-create-existing", "POST", "/networks/create", "(409)", "/networks/create",
         {"Name": "${p}-net", "CheckDuplicate": True}, setup=_net),
    Case("network-create-bad-json", "POST", "/networks/create", "400", "/networks/create",
         BAD_JSON),
    Case("network-inspect", "GET", NET, "200", "/networks/${p}-net", setup=_net),
    Case("network-missing", "GET", NET, "404", f"/networks/{ME}"),
    Case("network-connect", "POST", f"{NET}/connect", "200", "/networks/${p}-net/connect",
         {"Container": "${p}-created"}, setup=_net),
    Case("network-connect-missing", "POST", f"{NET}/connect", "404",
         f"/networks/{ME}/connect", {"Container": "${p}-created"}, setup=_net),
    Case("network-connect-missing-container", "POST", f"{NET}/connect", "404",
         "/networks/${p}-net/connect", {"Container": ME}, setup=_net),
    Case("network-disconnect", "POST", f"{NET}/disconnect", "200",
         "/networks/${p}-net/disconnect", {"Container": "${p}-created"}, setup=_connected),
    Case("network-disconnect-missing", "POST", f"{NET}/disconnect", "404",
         f"/networks/{ME}/disconnect", {"Container": "${p}-created"}, setup=_net),
    Case("network-remove", "DELETE", NET, "204", "/networks/${p}-netdel",
         setup=lambda c: s.network(c, "netdel")),
    Case("network-remove-in-use", "DELETE", NET, "403", "/networks/${p}-busynet",
         setup=_busy_net, note="a running container is connected"),
    Case("network-remove-missing", "DELETE", NET, "404", f"/networks/{ME}"),
)

VOLUMES: tuple[Case, ...] = (
    Case("volumes-list", "GET", "/volumes", "200", "/volumes"),
    Case("volumes-list-bad-filter", "GET", "/volumes", "(400)", "/volumes?filters={bad"),
    Case("volume-create", "POST", "/volumes/create", "201", "/volumes/create",
         {"Name": "${p}-vol2", "Labels": {s.LABEL: "${p}"}}),
    Case("volume-create-existing", "POST", "/volumes/create", "201", "/volumes/create",
         {"Name": "${p}-vol"}, setup=lambda c: s.volume(c, "vol"),
         note="the Engine answers 201 for a name that exists"),
    Case("volume-create-bad-json", "POST", "/volumes/create", "400", "/volumes/create",
         BAD_JSON),
    Case("volume-inspect", "GET", VOL, "200", "/volumes/${p}-vol",
         setup=lambda c: s.volume(c, "vol")),
    Case("volume-missing", "GET", VOL, "404", f"/volumes/{ME}"),
    Case("volume-remove", "DELETE", "/volumes/{name:.*}", "204", "/volumes/${p}-voldel",
         setup=lambda c: s.volume(c, "voldel")),
    Case("volume-remove-in-use", "DELETE", "/volumes/{name:.*}", "409", "/volumes/${p}-vol",
         setup=_vol_in_use),
    Case("volume-remove-missing", "DELETE", "/volumes/{name:.*}", "404", f"/volumes/{ME}"),
)

CASES = SYSTEM + EXEC + NETWORKS + VOLUMES
