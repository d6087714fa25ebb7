"""PostgreSQL for the fleet tests: the private server of scripts/postgres-up.sh, a fresh
database per test, and `store_url`, which runs a test on SQLite and on PostgreSQL.

With CI=true a test that needs PostgreSQL fails (never skips) when it is missing.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import ROOT, need

PG_DIR = Path(os.environ.get("DOCKDRIFT_PG_DIR", "/tmp/dockdrift-postgres"))
PG_PORT = int(os.environ.get("DOCKDRIFT_PG_PORT", "5433"))
PG_SOCKET = PG_DIR / "socket"


def pg_url(database: str, *, tcp: bool = False, user: str = "dockdrift") -> str:
    if tcp:
        return f"postgresql+psycopg://{user}@127.0.0.1:{PG_PORT}/{database}"
    return f"postgresql+psycopg://{user}@/{database}?host={PG_SOCKET}&port={PG_PORT}"


def pg_password() -> str:
    return (PG_DIR / "password").read_text().strip()


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(host=str(PG_SOCKET), port=PG_PORT, user="postgres", dbname="postgres",
                         autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture(scope="session")
def pg_server() -> Path:
    """The private PostgreSQL (started by scripts/postgres-up.sh if it is not running)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        need(False, "psycopg is not installed: pip install -e '.[postgres]'")
    script = ROOT / "scripts" / "postgres-up.sh"
    r = subprocess.run([str(script)], capture_output=True, text=True, timeout=120)
    need(r.returncode == 0, f"no PostgreSQL: {r.stderr.strip()[-300:]}")
    return PG_DIR


@pytest.fixture(scope="session")
def new_pg_database(pg_server: Path) -> Iterator[Callable[[], str]]:
    """Makes fresh, empty databases owned by `dockdrift`; all dropped at the end."""
    made: list[str] = []

    def make() -> str:
        name = f"dd_test_{uuid.uuid4().hex[:12]}"
        _admin(f"CREATE DATABASE {name} OWNER dockdrift")
        made.append(name)
        return name

    yield make
    for name in made:
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def pg_database(new_pg_database: Callable[[], str]) -> str:
    """A fresh, empty database for one test."""
    return new_pg_database()


@pytest.fixture
def pg_store(pg_database: str) -> str:
    return pg_url(pg_database)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on a SQLite file and on a real PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "store.sqlite")
    return request.getfixturevalue("pg_store")


def backend_store(request: pytest.FixtureRequest, directory: Path, name: str) -> str:
    """For a fixture parametrised over ("sqlite", "postgresql"): a new store of that kind."""
    if request.param == "sqlite":
        return str(directory / f"{name}.sqlite")
    return pg_url(request.getfixturevalue("new_pg_database")())


BACKENDS = ["sqlite", "postgresql"]
