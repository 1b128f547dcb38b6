"""The shared database: every write leaves other teams' data, and PostGIS itself, as it was.

Each test gets a database of its own, laid out as a bureau's: PostGIS in ``public``, a
plain table and a spatial table of another team in ``public``, a schema ``water`` of a
second team, and a read-only role that reads the published layers.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from geo._pg import dispose
from geo.io import load_layers

from .common import SAMPLE
from .pg import server_url
from .test_cli import run

# What the other teams keep in the database, and a query that reads all of it back.
_THEIRS = """
CREATE TABLE public.cadastre (parcel text PRIMARY KEY, owner text);
INSERT INTO public.cadastre VALUES ('J-001', '国土局'), ('J-002', '住建局');
CREATE TABLE public.zoning (id int PRIMARY KEY, geom geometry(Polygon, 4551));
INSERT INTO public.zoning VALUES (1, ST_GeomFromText('POLYGON((0 0, 100 0, 100 100, 0 100, 0 0))', 4551));
CREATE SCHEMA water;
CREATE TABLE water.pipes (id int PRIMARY KEY, name text);
INSERT INTO water.pipes VALUES (7, '供水干管');
CREATE TABLE water.roads (seg_id text PRIMARY KEY, name text);
INSERT INTO water.roads VALUES ('W1', '水务局的路');
"""
_FINGERPRINT = """
SELECT (SELECT extversion FROM pg_extension WHERE extname = 'postgis'),
       (SELECT string_agg(parcel || owner, ',' ORDER BY parcel) FROM public.cadastre),
       (SELECT ST_Area(geom) FROM public.zoning WHERE id = 1),
       (SELECT string_agg(id || name, ',') FROM water.pipes),
       (SELECT string_agg(seg_id || name, ',') FROM water.roads),
       (SELECT count(*) FROM pg_namespace WHERE nspname LIKE '\\_stage\\_%')
"""


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def bureau() -> Iterator[str]:
    """The URL of a fresh database holding other teams' data (no schema named)."""
    base = server_url()
    name = f"bureau_{secrets.token_hex(4)}"
    with psycopg.connect(_libpq(base), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION postgis")
        conn.execute(_THEIRS)
    yield url
    dispose(url)  # the tool's pooled connections to it end before the database does
    with psycopg.connect(_libpq(base), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _theirs(url: str) -> tuple[object, ...]:
    with psycopg.connect(_libpq(url)) as conn:
        row = conn.execute(_FINGERPRINT).fetchone()
    assert row is not None
    return tuple(row)


def _sql(url: str, query: str) -> list[tuple[object, ...]]:
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        cur = conn.execute(query)
        return cur.fetchall() if cur.description else []


INTACT = ("3", "J-001国土局,J-002住建局", 10000.0, "7供水干管", "W1水务局的路", 0)


def _intact(url: str) -> None:
    found = _theirs(url)
    assert found[0] and str(found[0]).startswith(INTACT[0]), "the postgis extension is gone"
    assert found[1:] == INTACT[1:]


def test_the_default_schema_is_the_tools_own_and_public_is_left_alone(bureau: str) -> None:
    done = run("publish", str(SAMPLE), bureau)
    assert done.returncode == 0, done.stderr
    assert "schema nanguan" in done.stdout and "roads 96" in done.stdout
    _intact(bureau)
    assert len(load_layers(f"{bureau}?schema=nanguan")["roads"]) == 96
    assert len(load_layers(bureau)["roads"]) == 96  # a URL without ?schema= reads the same schema
    tables = {r[0] for r in _sql(bureau, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert tables == {"cadastre", "zoning", "spatial_ref_sys"}


@pytest.mark.parametrize("schema", ["public", "water"])
def test_a_schema_of_someone_else_is_refused_with_or_without_replace(bureau: str, schema: str) -> None:
    for extra in ((), ("--replace", "--yes")):
        refused = run("publish", str(SAMPLE), bureau, "--schema", schema, *extra)
        assert refused.returncode == 1
        assert refused.stderr.count("\n") == 1, refused.stderr
        assert f"schema '{schema}' was not written by this tool" in refused.stderr
        assert "nothing was changed" in refused.stderr and "--schema" in refused.stderr
        _intact(bureau)


def test_a_marker_less_schema_with_the_layers_names_is_refused_on_every_write(bureau: str, tmp_path: Path) -> None:
    """A schema someone laid out with the same table names is not the tool's: no publish,
    import or edit touches it."""
    # a copy of the layers that another team made: the same tables, without the tool's mark
    assert run("publish", str(SAMPLE), f"{bureau}?schema=lookalike").returncode == 0
    _sql(bureau, "DELETE FROM lookalike.dataset_info WHERE key LIKE 'store.%'; COMMENT ON SCHEMA lookalike IS NULL")
    _sql(bureau, "UPDATE lookalike.roads SET name = '原有道路' WHERE seg_id = 'R001'")
    url = f"{bureau}?schema=lookalike"
    upload = tmp_path / "roads.geojson"
    _write_roads(upload)
    attempts = [
        ("publish", str(SAMPLE), url, "--replace", "--yes"),
        ("import", str(upload), "--as", "roads", "--into", url, "--yes"),
        ("edit", url, "roads", "R001", "name=改名", "--by", "张三"),
    ]
    for args in attempts:
        refused = run(*args)
        assert refused.returncode == 1, (args, refused.stdout)
        assert "was not written by this tool" in refused.stderr, (args, refused.stderr)
    assert _sql(bureau, "SELECT count(*), max(name) FILTER (WHERE seg_id = 'R001') FROM lookalike.roads") == [
        (96, "原有道路")
    ]
    _intact(bureau)


def _write_roads(path: Path) -> None:
    from .common import frame, hline

    frame("roads", [hline(0, 0, 1000)], seg_id=["N1"]).to_crs(4326).to_file(path)


def test_a_replace_drops_only_the_tools_tables_and_keeps_the_readers_rights(bureau: str, tmp_path: Path) -> None:
    url = f"{bureau}?schema=renewal"
    assert run("publish", str(SAMPLE), url).returncode == 0
    # Another team keeps a table of its own in the schema, and a reader role reads the roads.
    reader = f"reader_{secrets.token_hex(3)}"
    _sql(
        bureau,
        f"CREATE TABLE renewal.site_notes (id int, note text); INSERT INTO renewal.site_notes VALUES (1, '现场记录');"
        f" CREATE ROLE {reader}; GRANT USAGE ON SCHEMA renewal TO {reader};"
        f" GRANT SELECT ON renewal.roads TO {reader}",
    )
    again = run("publish", str(SAMPLE), url)
    assert again.returncode == 1 and "pass --replace" in again.stderr
    replaced = run("publish", str(SAMPLE), url, "--replace", "--yes")
    assert replaced.returncode == 0, replaced.stderr
    assert "; replaced areas 11, districts 14, " in replaced.stdout and "roads 96" in replaced.stdout
    assert _sql(bureau, "SELECT note FROM renewal.site_notes") == [("现场记录",)]
    granted = _sql(bureau, f"SELECT has_table_privilege('{reader}', 'renewal.roads', 'SELECT')")
    assert granted == [(True,)]
    # one import replaces the roads table alone; the rest of the schema stays
    upload = tmp_path / "roads.geojson"
    _write_roads(upload)
    imported = run("import", str(upload), "--as", "roads", "--into", url, "--yes")
    assert imported.returncode == 0, imported.stderr
    layers = load_layers(url)
    assert layers["roads"]["seg_id"].tolist() == ["N1"] and len(layers["districts"]) == 14
    assert _sql(bureau, f"SELECT has_table_privilege('{reader}', 'renewal.roads', 'SELECT')") == [(True,)]
    assert _sql(bureau, "SELECT note FROM renewal.site_notes") == [("现场记录",)]
    _intact(bureau)
    # and a schema with another team's view on one of the tool's tables is not replaced
    _sql(bureau, "CREATE VIEW public.road_names AS SELECT seg_id, name FROM renewal.roads")
    blocked = run("publish", str(SAMPLE), url, "--replace", "--yes")
    assert blocked.returncode == 1 and "depends on a table" in blocked.stderr and "nothing was" in blocked.stderr
    assert _sql(bureau, "SELECT seg_id FROM public.road_names") == [("N1",)]


def test_pull_replaces_a_geopackage_never_another_file(bureau: str, tmp_path: Path) -> None:
    url = f"{bureau}?schema=renewal"
    assert run("publish", str(SAMPLE), url).returncode == 0
    report = tmp_path / "report.docx"
    report.write_bytes(b"PK\x03\x04 a planner's report")
    refused = run("pull", url, str(report), "--replace", "--yes")
    assert refused.returncode == 1 and "not a GeoPackage" in refused.stderr
    assert report.read_bytes() == b"PK\x03\x04 a planner's report"
    gpkg = tmp_path / "copy.gpkg"
    shutil.copyfile(SAMPLE, gpkg)
    pulled = run("pull", url, str(gpkg), "--replace", "--yes")
    assert pulled.returncode == 0, pulled.stderr
    assert len(load_layers(gpkg)["roads"]) == 96
    assert "store.tool" not in _gpkg_info(gpkg)  # the store's mark is not data


def _gpkg_info(path: Path) -> dict[str, str]:
    from geo.io import dataset_info

    return dataset_info(path)


def _at_a_terminal(args: list[str], answer: str) -> subprocess.CompletedProcess[str]:
    """``python -m geo ARGS`` with a terminal for its standard input, answered ``answer``."""
    import os
    import pty
    import sys

    from .common import ROOT

    master, slave = pty.openpty()
    os.write(master, answer.encode() + b"\n")
    try:
        return subprocess.run(
            [sys.executable, "-m", "geo", *args],
            stdin=slave,
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            check=False,
            timeout=300,
        )
    finally:
        os.close(master)
        os.close(slave)


def test_at_a_terminal_a_replace_asks_first_and_no_keeps_everything(bureau: str) -> None:
    url = f"{bureau}?schema=renewal"
    assert run("publish", str(SAMPLE), url).returncode == 0
    _sql(bureau, "UPDATE renewal.roads SET name = '未发布的修改' WHERE seg_id = 'R001'")
    declined = _at_a_terminal(["publish", str(SAMPLE), url, "--replace"], "n")
    assert declined.returncode == 1
    assert "publish replaces in" in declined.stderr and "roads 96" in declined.stderr
    assert "cancelled: nothing was changed" in declined.stderr
    assert _sql(bureau, "SELECT name FROM renewal.roads WHERE seg_id = 'R001'") == [("未发布的修改",)]
    accepted = _at_a_terminal(["publish", str(SAMPLE), url, "--replace"], "y")
    assert accepted.returncode == 0, accepted.stderr
    assert _sql(bureau, "SELECT name FROM renewal.roads WHERE seg_id = 'R001'") != [("未发布的修改",)]
