"""Docker contexts: the endpoint and TLS material `docker --context NAME` would use.

The docker CLI keeps each context in its config directory ($DOCKER_CONFIG, else ~/.docker):
`contexts/meta/<sha256 of name>/meta.json` (`Endpoints.docker.Host`, `SkipTLSVerify`) and
`contexts/tls/<sha256 of name>/docker/{ca,cert,key}.pem`. The current context is
$DOCKER_CONTEXT, else `currentContext` in config.json, else `default` (which is no stored
context: the endpoint then comes from DOCKER_HOST and the TLS environment).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass

from dockdrift.errors import UsageError
from dockdrift.upstream.tls import TlsFiles, config_dir

DEFAULT = "default"


@dataclass(frozen=True)
class Context:
    name: str
    host: str
    tls: TlsFiles | None  # None: the context speaks plain (tcp), or TLS does not apply


def current(environ: dict[str, str]) -> tuple[str, str]:
    """(name, where it came from), as `docker context show` decides."""
    if environ.get("DOCKER_CONTEXT"):
        return environ["DOCKER_CONTEXT"], "DOCKER_CONTEXT"
    path = os.path.join(config_dir(environ), "config.json")
    try:
        with open(path, encoding="utf-8") as f:
            name = json.load(f).get("currentContext") or ""
    except FileNotFoundError:
        name = ""
    except (OSError, ValueError, AttributeError) as exc:
        raise UsageError(f"cannot read the docker CLI config {path}: {exc}") from None
    return (name, f"currentContext in {path}") if name else (DEFAULT, "default")


def context_id(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8")).hexdigest()


def load(name: str, environ: dict[str, str], source: str = "--context") -> Context:
    """Read context `name` from the store (UsageError if it does not exist or is broken)."""
    base = os.path.join(config_dir(environ), "contexts")
    cid = context_id(name)
    meta_path = os.path.join(base, "meta", cid, "meta.json")
    try:
        with open(meta_path, encoding="utf-8") as f:
            meta = json.load(f)
    except FileNotFoundError:
        raise UsageError(f"context {name!r} ({source}) does not exist in {base}: see "
                         "`docker context ls`") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read context {name!r} at {meta_path}: {exc}") from None
    endpoint = (meta.get("Endpoints") or {}).get("docker") if isinstance(meta, dict) else None
    if not isinstance(endpoint, dict) or not endpoint.get("Host"):
        raise UsageError(f"context {name!r} has no docker endpoint (Endpoints.docker.Host "
                         f"in {meta_path})")
    return Context(name, str(endpoint["Host"]),
                   _tls(name, os.path.join(base, "tls", cid, "docker"),
                        bool(endpoint.get("SkipTLSVerify"))))


def _tls(name: str, tls_dir: str, skip_verify: bool) -> TlsFiles | None:
    """The docker CLI uses TLS for a context iff it has TLS files or SkipTLSVerify."""
    files = {n: os.path.join(tls_dir, f"{n}.pem") for n in ("ca", "cert", "key")}
    have = {n: p for n, p in files.items() if os.path.isfile(p)}
    if not have and not skip_verify:
        return None
    if ("cert" in have) != ("key" in have):
        raise UsageError(f"context {name!r}: {tls_dir} has only one of cert.pem and key.pem")
    return TlsFiles(verify=not skip_verify, ca=have.get("ca"), cert=have.get("cert"),
                    key=have.get("key"), source=f"context {name!r}")
