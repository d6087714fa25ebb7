"""Probe cases for /containers/…: lifecycle, inspection, archive, attach, copy."""

from __future__ import annotations

from dockdrift.probe import setups as s
from dockdrift.probe.client import BAD_JSON
from dockdrift.probe.model import WEBSOCKET, Case, send_hijack

CT = "/containers/{name:.*}"
ME = "${p}-missing"  # a container, image, volume or network that exists nowhere
CREATED, RUNNING = "${p}-created", "${p}-running"
LOGS = "?logs=1&stream=0&stdout=1&stderr=1"


def _created(c):
    s.container(c, "created")


def _live(c):
    s.live(c)


LIFECYCLE: tuple[Case, ...] = (
    Case("containers-list", "GET", "/containers/json", "200",
         '/containers/json?all=1&filters={"label":["dockdrift.probe=${p}"]}', setup=_created),
    Case("bad-filter-json", "GET", "/containers/json", "400", "/containers/json?filters={bad"),
    Case("containers-list-unknown-filter", "GET", "/containers/json", "400",
         '/containers/json?filters={"ddprobe-nosuch":["x"]}'),
    Case("containers-ps", "GET", "/containers/ps", "n/a", "/containers/ps",
         note="Swarm only; the Engine has no such route"),
    Case("create", "POST", "/containers/create", "201", "/containers/create?name=${p}-made",
         {"Image": "${image}", "Cmd": ["true"], "Labels": {s.LABEL: "${p}"}}),
    Case("create-name-conflict", "POST", "/containers/create", "409",
         f"/containers/create?name={CREATED}", {"Image": "${image}", "Cmd": ["true"]},
         setup=_created),
    Case("create-missing-image", "POST", "/containers/create", "404",
         "/containers/create?name=${p}-noimage",
         {"Image": "${closed}/${p}-missing:probe", "Cmd": ["true"]}),
    Case("create-bad-json", "POST", "/containers/create", "400",
         "/containers/create?name=${p}-badjson", BAD_JSON),
    Case("create-invalid-config", "POST", "/containers/create", "400",
         "/containers/create?name=${p}-badconfig",
         {"Image": "${image}", "HostConfig": {"RestartPolicy": {"Name": "ddprobe-bogus"}}}),
    Case("create-bad-name", "POST", "/containers/create", "400",
         "/containers/create?name=${p}-bad!name", {"Image": "${image}", "Cmd": ["true"]}),
    Case("inspect-container", "GET", f"{CT}/json", "200", f"/containers/{CREATED}/json",
         setup=_created),
    Case("inspect-missing-container", "GET", f"{CT}/json", "404", f"/containers/{ME}/json"),
    Case("start", "POST", f"{CT}/start", "204", "/containers/${p}-starter/start",
         setup=lambda c: s.stopped(c, "starter")),
    Case("start-started-container", "POST", f"{CT}/start", "304",
         f"/containers/{RUNNING}/start", setup=_live),
    Case("start-missing", "POST", f"{CT}/start", "404", f"/containers/{ME}/start"),
    Case("stop", "POST", f"{CT}/stop", "204", "/containers/${p}-stopper/stop?t=0",
         setup=lambda c: s.running(c, "stopper")),
    Case("stop-stopped-container", "POST", f"{CT}/stop", "304",
         f"/containers/{CREATED}/stop?t=0", setup=_created),
    Case("stop-missing", "POST", f"{CT}/stop", "404", f"/containers/{ME}/stop?t=0"),
    Case("restart", "POST", f"{CT}/restart", "204", "/containers/${p}-restarter/restart?t=0",
         setup=lambda c: s.container(c, "restarter")),
    Case("restart-missing", "POST", f"{CT}/restart", "404", f"/containers/{ME}/restart?t=0"),
    Case("kill", "POST", f"{CT}/kill", "204", "/containers/${p}-killer/kill",
         setup=lambda c: s.running(c, "killer")),
    Case("kill-stopped", "POST", f"{CT}/kill", "409", f"/containers/{CREATED}/kill",
         setup=_created),
    Case("kill-bad-signal", "POST", f"{CT}/kill", "(400)",
         "/containers/${p}-busy/kill?signal=DDPROBENOSUCH",
         setup=lambda c: s.running(c, "busy")),
    Case("kill-missing", "POST", f"{CT}/kill", "404", f"/containers/{ME}/kill"),
    Case("pause", "POST", f"{CT}/pause", "204", "/containers/${p}-pauser/pause",
         setup=lambda c: s.unpaused(c, "pauser")),
    Case("pause-paused", "POST", f"{CT}/pause", "(409)", "/containers/${p}-pauser/pause",
         setup=lambda c: s.paused(c, "pauser")),
    Case("pause-stopped", "POST", f"{CT}/pause", "(409)", f"/containers/{CREATED}/pause",
         setup=_created),
    Case("pause-missing", "POST", f"{CT}/pause", "404", f"/containers/{ME}/pause"),
    Case("unpause", "POST", f"{CT}/unpause", "204", "/containers/${p}-pauser/unpause",
         setup=lambda c: s.paused(c, "pauser")),
    Case("unpause-running", "POST", f"{CT}/unpause", "(409)", f"/containers/{RUNNING}/unpause",
         setup=_live),
    Case("unpause-missing", "POST", f"{CT}/unpause", "404", f"/containers/{ME}/unpause"),
    Case("rename", "POST", f"{CT}/rename", "204", "/containers/${p}-renamer/rename?name=${p}-renamed",
         setup=lambda c: (s.gone(c, "containers", f"{c.prefix}-renamed"),
                          s.fresh(c, "renamer"))),
    Case("rename-to-existing", "POST", f"{CT}/rename", "409",
         f"/containers/{RUNNING}/rename?name={CREATED}",
         setup=lambda c: (s.live(c), s.container(c, "created"))),
    Case("rename-missing", "POST", f"{CT}/rename", "404",
         f"/containers/{ME}/rename?name=${{p}}-renamed2"),
    Case("update", "POST", f"{CT}/update", "200", f"/containers/{CREATED}/update",
         {"CpuShares": 512}, setup=_created),
    Case("update-bad-json", "POST", f"{CT}/update", "400", f"/containers/{CREATED}/update",
         BAD_JSON, setup=_created),
    Case("update-missing", "POST", f"{CT}/update", "404", f"/containers/{ME}/update",
         {"CpuShares": 512}),
    Case("wait", "POST", f"{CT}/wait", "200", "/containers/${p}-exited/wait",
         setup=lambda c: s.running(c, "exited", cmd=["true"])),
    Case("wait-bad-condition", "POST", f"{CT}/wait", "400",
         f"/containers/{CREATED}/wait?condition=ddprobe-bogus", setup=_created, timeout=10),
    Case("wait-missing", "POST", f"{CT}/wait", "404", f"/containers/{ME}/wait"),
    Case("remove", "DELETE", CT, "204", "/containers/${p}-remover",
         setup=lambda c: s.fresh(c, "remover")),
    Case("remove-running", "DELETE", CT, "409", "/containers/${p}-busy",
         setup=lambda c: s.running(c, "busy")),
    Case("remove-missing", "DELETE", CT, "404", f"/containers/{ME}"),
    Case("remove-bad-link", "DELETE", CT, "400", "/containers/${p}-linker?link=1",
         setup=lambda c: s.fresh(c, "linker"), note="link=1 on a name that is no link"),
)

INSIDE: tuple[Case, ...] = (
    Case("top", "GET", f"{CT}/top", "200", f"/containers/{RUNNING}/top", setup=_live),
    Case("top-stopped", "GET", f"{CT}/top", "(409)", f"/containers/{CREATED}/top", setup=_created),
    Case("top-missing", "GET", f"{CT}/top", "404", f"/containers/{ME}/top"),
    Case("logs", "GET", f"{CT}/logs", "200", f"/containers/{RUNNING}/logs?stdout=1&stderr=1",
         setup=_live),
    Case("logs-no-streams", "GET", f"{CT}/logs", "(400)", f"/containers/{RUNNING}/logs",
         setup=_live),
    Case("logs-missing", "GET", f"{CT}/logs", "404", f"/containers/{ME}/logs?stdout=1"),
    Case("stats", "GET", f"{CT}/stats", "200",
         f"/containers/{RUNNING}/stats?stream=0&one-shot=1", setup=_live),
    Case("stats-missing", "GET", f"{CT}/stats", "404", f"/containers/{ME}/stats?stream=0"),
    Case("changes", "GET", f"{CT}/changes", "200", f"/containers/{CREATED}/changes",
         setup=_created),
    Case("changes-missing", "GET", f"{CT}/changes", "404", f"/containers/{ME}/changes"),
    Case("export", "GET", f"{CT}/export", "200", f"/containers/{CREATED}/export",
         setup=_created, timeout=60),
    Case("export-missing", "GET", f"{CT}/export", "404", f"/containers/{ME}/export"),
    Case("resize", "POST", f"{CT}/resize", "200", f"/containers/{RUNNING}/resize?h=24&w=80",
         setup=_live),
    Case("resize-bad-size", "POST", f"{CT}/resize", "(400)",
         f"/containers/{RUNNING}/resize?h=ddprobe&w=80", setup=_live),
    Case("resize-missing", "POST", f"{CT}/resize", "404", f"/containers/{ME}/resize?h=24&w=80"),
    Case("attach", "POST", f"{CT}/attach", "101", f"/containers/{RUNNING}/attach{LOGS}",
         setup=_live, send=send_hijack, timeout=10),
    Case("attach-no-upgrade", "POST", f"{CT}/attach", "200",
         f"/containers/{RUNNING}/attach{LOGS}", setup=_live, timeout=10),
    Case("attach-missing", "POST", f"{CT}/attach", "404", f"/containers/{ME}/attach{LOGS}",
         send=send_hijack, timeout=10),
    Case("attach-ws", "GET", f"{CT}/attach/ws", "101", f"/containers/{RUNNING}/attach/ws{LOGS}",
         setup=_live, send=send_hijack, headers=WEBSOCKET, timeout=10,
         note="a websocket upgrade"),
    Case("attach-ws-no-upgrade", "GET", f"{CT}/attach/ws", "400",
         f"/containers/{RUNNING}/attach/ws{LOGS}", setup=_live, timeout=10,
         note="a GET without the websocket upgrade"),
    Case("attach-ws-missing", "GET", f"{CT}/attach/ws", "404",
         f"/containers/{ME}/attach/ws{LOGS}", timeout=10),
    Case("copy", "POST", f"{CT}/copy", "200", f"/containers/{CREATED}/copy",
         {"Resource": "/etc/passwd"}, setup=_created, version="1.22",
         note="removed in API 1.24: sent as /v1.22/"),
    Case("copy-missing", "POST", f"{CT}/copy", "404", f"/containers/{ME}/copy",
         {"Resource": "/etc/passwd"}, version="1.22"),
)

UPLOAD = s.tar_of({"ddprobe.txt": b"dockdrift probe\n"})


def _read_only(c):
    s.container(c, "readonly", HostConfig={"ReadonlyRootfs": True})


ARCHIVE: tuple[Case, ...] = (
    Case("archive-get", "GET", f"{CT}/archive", "200",
         f"/containers/{CREATED}/archive?path=/etc/passwd", setup=_created),
    Case("archive-get-no-path", "GET", f"{CT}/archive", "400", f"/containers/{CREATED}/archive",
         setup=_created),
    Case("archive-get-missing-path", "GET", f"{CT}/archive", "404",
         f"/containers/{CREATED}/archive?path=/ddprobe-nosuch", setup=_created),
    Case("archive-get-missing", "GET", f"{CT}/archive", "404",
         f"/containers/{ME}/archive?path=/etc/passwd"),
    Case("archive-head", "HEAD", f"{CT}/archive", "200",
         f"/containers/{CREATED}/archive?path=/etc/passwd", setup=_created),
    Case("archive-head-missing", "HEAD", f"{CT}/archive", "404",
         f"/containers/{ME}/archive?path=/etc/passwd"),
    Case("archive-put", "PUT", f"{CT}/archive", "200", f"/containers/{CREATED}/archive?path=/tmp",
         UPLOAD, setup=_created),
    Case("archive-put-no-path", "PUT", f"{CT}/archive", "400", f"/containers/{CREATED}/archive",
         UPLOAD, setup=_created),
    Case("archive-put-missing-path", "PUT", f"{CT}/archive", "404",
         f"/containers/{CREATED}/archive?path=/ddprobe-nosuch", UPLOAD, setup=_created),
    Case("archive-put-read-only", "PUT", f"{CT}/archive", "403",
         "/containers/${p}-readonly/archive?path=/tmp", UPLOAD, setup=_read_only),
    Case("archive-put-missing", "PUT", f"{CT}/archive", "404",
         f"/containers/{ME}/archive?path=/tmp", UPLOAD),
)

CASES = LIFECYCLE + INSIDE + ARCHIVE
