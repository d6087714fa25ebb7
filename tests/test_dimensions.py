"""Dimensions are data (db.dimensions): the declarations match the store's schema, the one
Filter selects by them, every command that reads exchanges offers the same filter flags, and
`--by DIM` splits a report by any declared dimension (`--by recorder` as before)."""

from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path

import pytest
from report_helpers import write_capture
from sqlalchemy import and_, func, select, true

from dockdrift.analysis.filter import Filter
from dockdrift.analysis.load import dimension_values
from dockdrift.cli import main
from dockdrift.commands import options
from dockdrift.db.dimensions import BY_DIMENSIONS, DIMENSIONS, filter_dimensions
from dockdrift.db.engine import make_engine
from dockdrift.db.models import Exchange, Rollup


def test_declarations_name_real_columns() -> None:
    for dim in DIMENSIONS.values():
        for col in (*dim.columns, *([dim.fallback] if dim.fallback else [])):
            assert hasattr(Exchange, col), (dim.name, col)
        for col in dim.rollup:
            assert hasattr(Rollup, col), (dim.name, col)
        if dim.flag:
            assert dim.field in {f for f in Filter.__dataclass_fields__}, dim.name
    assert {"client", "shape", "outcome", "probe_case", "implementation"} <= set(DIMENSIONS)
    assert set(BY_DIMENSIONS) <= {d.name for d in filter_dimensions()}


@pytest.mark.parametrize("command", ["report", "drift", "matrix", "allowlist"])
def test_every_reader_has_the_same_filter_flags(command: str) -> None:
    from dockdrift.cli import build_parser

    parser = build_parser([command])
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    flags = {s for a in sub.choices[command]._actions for s in a.option_strings}
    assert {d.flag for d in filter_dimensions()} <= flags
    assert {"--format", "-o", "--allow-empty"} <= flags
    if command != "drift":  # drift's windows are --baseline/--current
        assert {"--since", "--until"} <= flags


def test_filter_from_args_builds_the_one_filter() -> None:
    p = argparse.ArgumentParser()
    options.add_filter_arguments(p)
    args = p.parse_args(["--recorder", "a", "--recorder", "b", "--user-agent", "^Docker",
                         "--implementation", "engine 26.1.5", "--method", "get"])
    flt = options.filter_from_args(args)
    assert flt.recorders == ("a", "b") and flt.user_agent == "^Docker"
    assert flt.implementations == ("engine 26.1.5",) and flt.method == "get"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = write_capture(tmp_path_factory.mktemp("dims") / "s.sqlite")
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE exchanges SET user_agent = CASE WHEN id % 3 = 0 "
                     "THEN 'Docker-Client/28.2' ELSE 'docker-py/7.1' END, "
                     "recorder = CASE WHEN id % 2 THEN 'a' ELSE 'b' END")
    conn.close()
    return path


def _count(engine, flt: Filter) -> int:  # noqa: ANN001
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Exchange)
                           .where(and_(true(), *flt.where())))


def test_filter_conditions(store: Path) -> None:
    engine = make_engine(store, create=False)
    try:
        total = _count(engine, Filter())
        docker = _count(engine, Filter(user_agent="^Docker-Client"))
        assert 0 < docker < total
        assert docker + _count(engine, Filter(user_agent="^docker-py")) == total
        assert _count(engine, Filter(recorders=("a", "b"))) == total
        assert _count(engine, Filter(implementations=("engine unknown",))) == _count(
            engine, Filter(target="engine"))
        assert dimension_values(engine, Filter(), "recorder") == ["a", "b"]
        assert "swarm unknown" in dimension_values(engine, Filter(), "implementation")
    finally:
        engine.dispose()


def test_by_any_dimension(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["report", "--db", str(store), "--by", "target", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1 and doc["by"] == "target"
    assert [s["target"] for s in doc["sections"]] == ["engine", "swarm"]
    assert doc["unnamed_target_rows"] is True  # the row with no target: in the plain report
    main(["report", "--db", str(store), "--by", "recorder", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert [s["recorder"] for s in doc["sections"]] == ["a", "b"]
    assert "unnamed_recorder_rows" in doc
