"""Setups the cases share: the run's own containers, images, volumes, networks, execs.

Every object is named `<prefix>-<role>` (images `<prefix>-<role>:probe`) and labelled
`dockdrift.probe=<prefix>`; each helper makes its object at most once per run (`Ctx.once`)
and leaves it in the state the case asks for, whatever earlier cases did to it.
"""

from __future__ import annotations

import io
import tarfile

from dockdrift.probe.client import NULL
from dockdrift.probe.model import Ctx

LABEL = "dockdrift.probe"
SLEEP = ["sleep", "600"]
ANY = tuple(range(100, 600))


def container(ctx: Ctx, role: str, cmd: list[str] | None = None, **config: object) -> str:
    """Create `<prefix>-<role>` once (not started); return its name."""
    name = f"{ctx.prefix}-{role}"
    body = {"Image": ctx.image, "Cmd": cmd or SLEEP, "Labels": {LABEL: ctx.prefix}, **config}
    ctx.once(f"container:{role}", lambda: ctx.call(
        "POST", f"/containers/create?name={name}", body, ok=(201, 409)))
    return name


def state(ctx: Ctx, name: str) -> str:
    """`created`, `running`, `paused`, `exited`, … as the implementation reports it."""
    data = ctx.call("GET", f"/containers/{name}/json", ok=(200,)).json()
    status = (data.get("State") or {}).get("Status") if isinstance(data, dict) else None
    return str(status or "unknown")


def running(ctx: Ctx, role: str, **config: object) -> str:
    """Started, or paused (which `unpaused` undoes): a paused container cannot start."""
    name = container(ctx, role, **config)
    if state(ctx, name) not in ("running", "paused"):
        ctx.call("POST", f"/containers/{name}/start", ok=(204, 304))
    return name


def live(ctx: Ctx) -> str:
    """The run's long-running container (a tty, stdin open: resize and attach work)."""
    return running(ctx, "running", Tty=True, OpenStdin=True)


def stopped(ctx: Ctx, role: str) -> str:
    name = container(ctx, role)
    ctx.call("POST", f"/containers/{name}/stop?t=0", ok=(204, 304))
    return name


def paused(ctx: Ctx, role: str) -> str:
    name = running(ctx, role)
    if state(ctx, name) != "paused":
        ctx.call("POST", f"/containers/{name}/pause", ok=(204,))
    return name


def unpaused(ctx: Ctx, role: str) -> str:
    name = running(ctx, role)
    if state(ctx, name) == "paused":
        ctx.call("POST", f"/containers/{name}/unpause", ok=(204,))
    return name


def fresh(ctx: Ctx, role: str, cmd: list[str] | None = None, start: bool = False) -> str:
    """A container made anew for a case that uses it up (remove, rename)."""
    ctx.made.pop(f"container:{role}", None)
    name = container(ctx, role, cmd)
    if start:
        ctx.call("POST", f"/containers/{name}/start", ok=(204, 304))
    return name


def gone(ctx: Ctx, kind: str, name: str) -> None:
    """Make sure our `name` does not exist (a case is about to create it)."""
    query = "?force=1" if kind == "containers" else ""
    ctx.call("DELETE", f"/{kind}/{name}{query}", ok=ANY)


def tag(ctx: Ctx, role: str, source: str = "") -> str:
    """Tag the probe image (or `source`) as `<prefix>-<role>:probe`; returns that name."""
    repo = role if role.startswith(ctx.closed) else f"{ctx.prefix}-{role}"
    ctx.call("POST", f"/images/{source or ctx.image}/tag?repo={repo}&tag=probe", ok=(200, 201))
    return f"{repo}:probe"


def committed(ctx: Ctx) -> str:
    """`<prefix>-commit:probe`: an image of our own (commit of the created container)."""
    name = container(ctx, "created")
    ctx.once("commit", lambda: ctx.call(
        "POST", f"/commit?container={name}&repo={ctx.prefix}-commit&tag=probe", NULL,
        ok=(200, 201)))
    return f"{ctx.prefix}-commit:probe"


def volume(ctx: Ctx, role: str) -> str:
    name = f"{ctx.prefix}-{role}"
    ctx.once(f"volume:{role}", lambda: ctx.call(
        "POST", "/volumes/create", {"Name": name, "Labels": {LABEL: ctx.prefix}}))
    return name


def network(ctx: Ctx, role: str) -> str:
    name = f"{ctx.prefix}-{role}"
    ctx.once(f"network:{role}", lambda: ctx.call(
        "POST", "/networks/create", {"Name": name, "CheckDuplicate": True,
                                     "Labels": {LABEL: ctx.prefix}}, ok=(200, 201, 409)))
    return name


def exec_created(ctx: Ctx, var: str, cmd: list[str], **config: object) -> str:
    """Create an exec in the running container; its id goes to `${var}`."""
    ctx.vars.pop(var, None)  # a failed setup must not leave an earlier case's exec in place
    name = live(ctx)
    resp = ctx.call("POST", f"/containers/{name}/exec",
                    {"Cmd": cmd, "AttachStdout": True, "AttachStderr": True, **config})
    data = resp.json()
    ctx.vars[var] = str(data.get("Id", "")) if isinstance(data, dict) else ""
    return ctx.vars[var]


def exec_started(ctx: Ctx, var: str, cmd: list[str], **config: object) -> str:
    exec_id = exec_created(ctx, var, cmd, **config)
    ctx.call("POST", f"/exec/{exec_id}/start", {"Detach": True, "Tty": bool(config.get("Tty"))})
    return exec_id


def image_tar(ctx: Ctx) -> bytes:
    """The tar `GET /images/{name}/get` gives for our tag of the probe image."""
    def make() -> bytes:
        name = tag(ctx, "img")
        return ctx.call("GET", f"/images/{name}/get", ok=(200,), timeout=60).body
    return bytes(ctx.once("image_tar", make))


def tar_of(files: dict[str, bytes]) -> bytes:
    """An in-memory tar archive (build contexts, archive uploads, image imports)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for path, data in files.items():
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()
