"""Remove what a probe run made: every object whose name starts with the run's prefix.

Objects are listed without server-side filters (implementations filter differently) and
chosen here by name; each is removed by its name, so a store of the run shows that every
DELETE it sent named one of its own objects. No prune route is ever used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dockdrift.probe.model import Ctx, SetupFailed
from dockdrift.probe.setups import ANY

KINDS = ("containers", "images", "volumes", "networks")  # removal order: users first


@dataclass
class Sweep:
    removed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    left: list[str] = field(default_factory=list)


def ours(prefix: str, name: str) -> bool:
    """`ddprobe-ab12cd-x`, `/ddprobe-…` (a container), `docker.io/library/ddprobe-…:probe`,
    `127.0.0.1:9/ddprobe-…:probe` (an image name with a registry part) are the run's."""
    parts = name.lstrip("/").split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    if len(parts) > 1 and parts[0] == "library":
        parts = parts[1:]
    return "/".join(parts).startswith(prefix + "-")


def _names(kind: str, item: dict[str, Any]) -> list[str]:
    if kind == "containers":
        return [n.lstrip("/") for n in item.get("Names") or []][:1]
    if kind == "images":
        return [t for t in item.get("RepoTags") or [] if t != "<none>:<none>"]
    return [str(item.get("Name", ""))]


def list_ours(ctx: Ctx, kind: str) -> list[str]:
    path = {"containers": "/containers/json?all=1", "images": "/images/json",
            "volumes": "/volumes", "networks": "/networks"}[kind]
    data = ctx.call("GET", path, ok=(200,)).json()
    items = (data or {}).get("Volumes") if kind == "volumes" else data
    return [n for item in items or [] if isinstance(item, dict)
            for n in _names(kind, item) if ours(ctx.prefix, n)]


def sweep(ctx: Ctx) -> Sweep:
    """Remove every object of the run; then list again and report what is left."""
    ctx.case, out = "cleanup", Sweep()
    for _ in range(2):  # again when something is left: a request cut off by Ctrl-C (a create
        # the daemon was still working on) can make its object after the first listing
        _remove_all(ctx, out)
        out.left = []
        for kind in KINDS:
            try:
                out.left += [f"{kind[:-1]} {n}" for n in list_ours(ctx, kind)]
            except SetupFailed as exc:
                out.left.append(f"{kind}: cannot list ({exc})")
        if not out.left:
            break
    return out


def _remove_all(ctx: Ctx, out: Sweep) -> None:
    for kind in KINDS:
        try:
            names = list_ours(ctx, kind)
        except SetupFailed as exc:
            out.left.append(f"{kind}: cannot list ({exc})")
            continue
        query = "?force=1&v=1" if kind == "containers" else ""
        for name in names:
            try:
                out.removed[kind] += _remove(ctx, kind, _escape(name), query)
            except SetupFailed:
                pass  # listed again below


def _escape(name: str) -> str:
    return name.replace("$", "$$")  # ctx.call renders paths as templates


def _remove(ctx: Ctx, kind: str, name: str, query: str) -> bool:
    resp = ctx.call("DELETE", f"/{kind}/{name}{query}", ok=ANY)
    if kind == "networks" and resp.status is not None and resp.status >= 300:
        # Engine 20.10 can keep the endpoint of a force-removed container ("has active
        # endpoints"): disconnect what the network still lists, by force, and try again.
        data = ctx.call("GET", f"/networks/{name}", ok=ANY).json()
        attached = (data or {}).get("Containers") or {} if isinstance(data, dict) else {}
        for cid, info in attached.items():
            who = info.get("Name") or cid if isinstance(info, dict) else cid
            ctx.call("POST", f"/networks/{name}/disconnect", {"Container": who, "Force": True},
                     ok=ANY)
        resp = ctx.call("DELETE", f"/{kind}/{name}{query}", ok=ANY)
    return resp.status is not None and resp.status < 300
