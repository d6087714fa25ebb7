"""Who called: a User-Agent -> (client family, version), by the rules in db/data/user-agents.csv.

The rules were read off captures of the real clients (docker CLI, docker-py, compose, buildx,
curl, ...): one row per family, first match wins, so a new client is a reviewable data diff.
A User-Agent no rule knows keeps its first product token (`traefik/2.10` -> traefik 2.10),
or, when it has none, the raw agent itself. A User-Agent is what the client *says*: it names a
client family, never a process (the process comes from the kernel, dockdrift.peers).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

RULES_FILE = Path(__file__).parent / "data" / "user-agents.csv"
NAME_MAX = 64  # exchanges.client_name / client_version


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    client: str  # "" = the name the pattern captured (the fallback rule)
    versioned: bool  # False: the captured token is no client version (Go-http-client/1.1)
    source: str


@lru_cache(maxsize=1)
def rules(path: Path = RULES_FILE) -> tuple[Rule, ...]:
    with open(path, newline="", encoding="utf-8") as f:
        return tuple(Rule(re.compile(row["pattern"]), row["client"], row["version"] == "version",
                          row["source"]) for row in csv.DictReader(f))


@lru_cache(maxsize=1024)
def identify(user_agent: str | None) -> tuple[str | None, str | None]:
    """`Docker-Client/28.2.2 (linux)` -> ("docker-cli", "28.2.2"); no agent -> (None, None)."""
    if not user_agent or not user_agent.strip():
        return None, None
    agent = user_agent.strip()
    for rule in rules():
        m = rule.pattern.search(agent)
        if m is None:
            continue
        groups = m.groupdict()
        name = rule.client or groups.get("name") or agent
        version = groups.get("version") if rule.versioned else None
        return name[:NAME_MAX], (version or "").lstrip("v")[:NAME_MAX] or None
    return agent[:NAME_MAX], None


def client_fields(user_agent: str | None) -> dict[str, str | None]:
    """The two `exchanges` columns for one User-Agent."""
    name, version = identify(user_agent)
    return {"client_name": name, "client_version": version}


def label(name: str | None, version: str | None) -> str:
    """("docker-cli", "28.2.2") -> "docker-cli 28.2.2"; no agent at all -> "(no user-agent)"."""
    if not name:
        return "(no user-agent)"
    return f"{name} {version}" if version else name


PEER_COLUMNS = ("peer_pid", "peer_uid", "peer_process", "peer_exe")


class ClientIdentity:
    """db.extract's extractor: the client family and version from the User-Agent, and the
    process behind the connection as the proxy's kernel lookup found it (Exchange.facts:
    dockdrift.peers; never a header)."""

    name = "client"
    columns = ("client_name", "client_version", *PEER_COLUMNS)

    def __init__(self, ctx: object) -> None:
        pass

    def finish(self, ex: object, row: dict) -> dict:
        facts = getattr(ex, "facts", None) or {}
        return {**client_fields(row.get("user_agent")),
                **{c: facts.get(c) for c in PEER_COLUMNS}}
