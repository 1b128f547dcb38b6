"""PostGIS sources: publishing, reading back, one-transaction writes, safety and faults."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import geopandas as gpd
import pandas as pd
import psycopg
import pytest
from sqlalchemy.engine import make_url

from geo import postgis, transfer
from geo._pg import is_database_url
from geo.errors import SourceError
from geo.io import dataset_info, load_layers, store_layer
from geo.postgis import check_identifier, mask_url, parse_url

from .common import ROOT, SAMPLE, frame, hline
from .gdal import feature_count, ogrinfo
from .test_cli import run


def plain(url: str) -> str:
    """``url`` as libpq takes it: no driver name, no schema parameter."""
    db = parse_url(url)
    return make_url(db.url).set(drivername="postgresql").render_as_string(hide_password=False)


def sql_rows(url: str, query: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(plain(url)) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


# --------------------------------------------------------------------------- no server needed


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (
            "postgresql://planner:s3cr@t!@db.bureau:5432/gis?schema=renewal",
            "postgresql://planner:***@db.bureau:5432/gis",
        ),
        ("error at postgres://u:pw@h/db now", "error at postgres://u:***@h/db now"),
        ("postgresql://reader@h/db", "postgresql://reader@h/db"),
        ("postgresql://u@h/db?password=s3cret&schema=x", "postgresql://u@h/db?password=***&schema=x"),
    ],
)
def test_passwords_are_masked(text: str, masked: str) -> None:
    assert masked in mask_url(text)
    assert "s3cr" not in mask_url(text) and ":pw@" not in mask_url(text)


def test_urls_are_told_from_paths() -> None:
    assert is_database_url("postgresql://u@h/db") and is_database_url("postgres://u@h/db")
    assert not is_database_url("data/nanguan.gpkg") and not is_database_url("https://example.org/x.gpkg")


def test_the_schema_comes_from_the_url_and_is_checked() -> None:
    db = parse_url("postgresql://u:pw@h:5433/gis?schema=renewal&sslmode=require")
    assert db.schema == "renewal" and "schema" not in db.url and "sslmode=require" in db.url
    assert parse_url("postgresql://u@h/gis").schema == "nanguan"  # public holds other teams' tables
    assert "pw" not in db.masked and "renewal" in db.masked
    for bad in ("Renewal", "x; DROP SCHEMA public CASCADE", 'a"b', "1abc", "a" * 64, ""):
        with pytest.raises(SourceError, match="is not allowed"):
            check_identifier(bad, "schema")
    with pytest.raises(SourceError, match="is not allowed"):
        parse_url("postgresql://u@h/gis?schema=x;drop")


# --------------------------------------------------------------------------- with a server


def test_publish_round_trips_every_field_crs_and_chinese_text(schema_url: str) -> None:
    counts = transfer.publish(str(SAMPLE), schema_url)
    assert counts["roads"] == 96 and counts["facilities"] == 119
    ours, back = load_layers(SAMPLE), load_layers(schema_url)
    assert list(back) == list(ours)
    for name, gdf in ours.items():
        assert back[name].crs.equals(gdf.crs), name
        pd.testing.assert_frame_equal(back[name].drop(columns="geometry"), gdf.drop(columns="geometry"))
        assert back[name].geometry.geom_equals_exact(gdf.geometry, tolerance=0).all(), name
    assert back["districts"].loc[0, "name"] == "南岭街道"
    assert dataset_info(schema_url) == dataset_info(SAMPLE)


def test_gdal_reads_the_published_schema(schema_url: str) -> None:
    transfer.publish(str(SAMPLE), schema_url)
    db, url = parse_url(schema_url), make_url(parse_url(schema_url).url)
    conn = (
        f"PG:host={url.host} port={url.port} dbname={url.database} user={url.username} "
        f"password={url.password} active_schema={db.schema}"
    )
    roads = ogrinfo("-so", conn, "roads")
    assert feature_count(roads) == 96
    assert 'ID["EPSG",4326]' in roads and "Geometry: Line String" in roads
    districts = ogrinfo(conn, "districts", "-where", "code = '220102001'")
    assert "南岭街道" in districts


def test_the_schema_holds_the_catalogue_rules(schema_url: str) -> None:
    transfer.publish(str(SAMPLE), schema_url)
    schema = parse_url(schema_url).schema
    indexes = {r[0] for r in sql_rows(schema_url, "SELECT indexdef FROM pg_indexes WHERE schemaname = %s", (schema,))}
    assert any("USING gist (geom)" in i and ".roads " in i for i in indexes)
    assert any("UNIQUE INDEX roads_pkey" in i and "(seg_id)" in i for i in indexes)
    [(geom_type, srid)] = sql_rows(
        schema_url,
        "SELECT type, srid FROM geometry_columns WHERE f_table_schema = %s AND f_table_name = 'parcels'",
        (schema,),
    )
    assert (geom_type, srid) == ("POLYGON", 4326)
    [(comment,)] = sql_rows(schema_url, "SELECT obj_description(%s::regclass)", (f"{schema}.roads",))
    assert comment == "道路 Roads"
    [(column_comment,)] = sql_rows(schema_url, "SELECT col_description(%s::regclass, 4)", (f"{schema}.roads",))
    assert column_comment.startswith("状态 Status: planned=规划")
    bad_rows = [
        ("UPDATE {}.roads SET status = 'demolished'", "roads_status_allowed"),
        ("UPDATE {}.parcels SET households = -1, resettled = -1", "parcels_households_minimum"),
        ("UPDATE {}.parcels SET resettled = households + 1", "parcels_resettled_not_above_households"),
        ("UPDATE {}.roads SET name = NULL", "name"),
    ]
    for statement, column in bad_rows:
        with pytest.raises(psycopg.errors.IntegrityError, match=column):
            sql_rows(schema_url, statement.format(schema))


def test_publish_refuses_an_existing_schema_unless_replacing(schema_url: str) -> None:
    transfer.publish(str(SAMPLE), schema_url)
    with pytest.raises(SourceError, match="exists; pass --replace"):
        transfer.publish(str(SAMPLE), schema_url)
    transfer.publish(str(SAMPLE), schema_url, replace=True)
    assert len(load_layers(schema_url)["roads"]) == 96


def test_a_publish_failing_half_way_leaves_the_old_schema(schema_url: str) -> None:
    transfer.publish(str(SAMPLE), schema_url)
    before = load_layers(schema_url)
    layers = load_layers(SAMPLE)
    layers["roads"] = layers["roads"].iloc[:10]
    last = layers["facilities"].copy()
    last.loc[last.index[-1], "kind"] = "casino"  # breaks the CHECK of the last layer written
    layers["facilities"] = last
    with pytest.raises(SourceError, match=r"violates check constraint.*publish failed, nothing was changed"):
        postgis.publish_layers(layers, parse_url(schema_url), replace=True)
    after = load_layers(schema_url)
    assert len(after["roads"]) == 96
    for name, gdf in before.items():
        pd.testing.assert_frame_equal(after[name].drop(columns="geometry"), gdf.drop(columns="geometry"))
    stray = sql_rows(schema_url, "SELECT nspname FROM pg_namespace WHERE nspname LIKE '\\_stage\\_%%'")
    assert stray == []


def test_import_replaces_one_layer_in_one_transaction(schema_url: str) -> None:
    transfer.publish(str(SAMPLE), schema_url)
    roads = frame("roads", [hline(0, 0, 1000), hline(0, 100, 500)], name=["新路甲", "新路乙"])
    store_layer(roads, "roads", schema_url)
    back = load_layers(schema_url)
    assert back["roads"]["name"].tolist() == ["新路甲", "新路乙"]
    assert back["roads"].crs.to_epsg() == 4326  # taken into the schema's CRS: one CRS per source
    assert back["roads"].to_crs(4551).length.tolist() == pytest.approx([1000, 500], abs=1e-3)
    assert len(back["pipes"]) == 12
    broken = roads.copy()
    broken["status"] = "demolished"
    with pytest.raises(SourceError, match="import failed, nothing was changed"):
        store_layer(broken, "roads", schema_url)
    assert load_layers(schema_url)["roads"]["name"].tolist() == ["新路甲", "新路乙"]


def test_injection_through_names_is_refused_and_changes_nothing(schema_url: str) -> None:
    transfer.publish(str(SAMPLE), schema_url)
    base = schema_url.split("?")[0]
    for schema in ('x"; DROP SCHEMA public CASCADE; --', "renewal;drop"):
        with pytest.raises(SourceError, match="is not allowed"):
            load_layers(f"{base}?schema={schema}")
    with pytest.raises(KeyError, match="unknown layer"):
        postgis.read_layer(parse_url(schema_url), "roads; DROP TABLE roads")
    assert len(load_layers(schema_url)["roads"]) == 96


def test_a_missing_schema_is_one_line(db_url: str) -> None:
    with pytest.raises(SourceError, match=r"schema 'nowhere' does not exist; publish") as err:
        load_layers(f"{db_url}?schema=nowhere")
    assert "\n" not in str(err.value)


def test_a_wrong_password_is_one_line_without_the_password(db_url: str) -> None:
    url = make_url(db_url).set(password="wrong-secret-42").render_as_string(hide_password=False)
    with pytest.raises(SourceError) as err:
        load_layers(url)
    message = str(err.value)
    assert "password authentication failed" in message and "check the user and password" in message
    assert "wrong-secret-42" not in message and "\n" not in message


def test_a_stopped_server_is_one_line(db_url: str, free_port: int) -> None:
    url = make_url(db_url).set(port=free_port).render_as_string(hide_password=False)
    with pytest.raises(SourceError) as err:
        load_layers(url)
    message = str(err.value)
    assert re.search(r"Connection refused.*is the database server running", message, re.I), message
    assert make_url(db_url).password not in message and "\n" not in message


def test_a_connection_lost_in_the_middle_is_one_line(schema_url: str) -> None:
    transfer.publish(str(SAMPLE), schema_url)
    db = parse_url(schema_url)
    with pytest.raises(SourceError, match=r"the connection was lost.*try again") as err:
        with postgis.connect(db) as conn:
            pid = conn.info.backend_pid
            sql_rows(schema_url, "SELECT pg_terminate_backend(%s)", (pid,))
            conn.execute("SELECT count(*) FROM pg_class")
    assert "\n" not in str(err.value)
    assert len(load_layers(schema_url)["roads"]) == 96  # the pool hands out a live connection again


def test_layers_from_the_database_are_geodataframes(schema_url: str) -> None:
    transfer.publish(str(SAMPLE), schema_url)
    roads = load_layers(schema_url, layers=("roads",))["roads"]
    assert isinstance(roads, gpd.GeoDataFrame) and roads.crs.to_epsg() == 4326


# --------------------------------------------------------------------------- the command line


def test_cli_publishes_then_measures_in_the_database(schema_url: str, tmp_path) -> None:
    base, schema = schema_url.split("?")[0], parse_url(schema_url).schema
    published = run("publish", str(SAMPLE), base, "--schema", schema)
    assert published.returncode == 0, published.stderr
    assert "roads 96" in published.stdout and make_url(base).password not in published.stdout
    again = run("publish", str(SAMPLE), base, "--schema", schema)
    assert again.returncode == 1 and "pass --replace" in again.stderr and again.stderr.count("\n") == 1
    from_db, from_file = run("stats", schema_url, "--format", "csv"), run("stats", str(SAMPLE), "--format", "csv")
    assert from_db.returncode == 0, from_db.stderr
    db_rows, file_rows = from_db.stdout.splitlines(), from_file.stdout.splitlines()
    assert db_rows[0] == file_rows[0] and [r.split(",")[:3] for r in db_rows] == [r.split(",")[:3] for r in file_rows]
    progress = run("progress", schema_url, "--format", "csv")
    assert progress.returncode == 0 and "road_segments" in progress.stdout
    shp = tmp_path / "新路.geojson"
    frame("roads", [hline(0, 0, 1000)], name=["新路"]).to_file(shp, driver="GeoJSON")
    imported = run("import", str(shp), "--as", "roads", "--into", schema_url)
    assert imported.returncode == 0, imported.stderr
    assert "imported 1 features" in imported.stdout and make_url(base).password not in imported.stdout
    assert load_layers(schema_url)["roads"]["name"].tolist() == ["新路"]


def test_cli_faults_are_one_line_without_the_password(db_url: str, free_port: int) -> None:
    secret = make_url(db_url).password
    wrong = make_url(db_url).set(password="not-" + secret).render_as_string(hide_password=False)
    stopped = make_url(db_url).set(port=free_port).render_as_string(hide_password=False)
    for url, expected in (
        (wrong, "password authentication failed"),
        (stopped, "is the database server running"),
        (f"{db_url}?schema=nowhere", "schema 'nowhere' does not exist"),
    ):
        result = run("stats", url)
        assert result.returncode == 1
        assert expected in result.stderr and secret not in result.stderr, result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_a_publish_killed_before_it_commits_leaves_the_old_schema(schema_url: str) -> None:
    transfer.publish(str(SAMPLE), schema_url)
    schema, base = parse_url(schema_url).schema, schema_url.split("?")[0]
    with psycopg.connect(plain(schema_url)) as holder:
        # Reading the old roads holds a lock the final swap waits for: the publish stops there,
        # with every new table written, until this transaction ends.
        holder.execute(f"SELECT count(*) FROM {schema}.roads").fetchall()
        proc = subprocess.Popen(
            [sys.executable, "-m", "geo", "publish", str(SAMPLE), base, "--schema", schema, "--replace"],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        waiting = "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'DROP TABLE%%'"
        pid = None
        for _ in range(6000):  # polls until the publish waits for the lock (at most about 10 minutes)
            rows = sql_rows(schema_url, waiting)
            if rows or proc.poll() is not None:
                pid = rows[0][0] if rows else None
                break
            time.sleep(0.1)
        assert pid is not None and proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    gone = "SELECT count(*) FROM pg_stat_activity WHERE pid = %s"
    for _ in range(6000):
        if sql_rows(schema_url, gone, (pid,)) == [(0,)]:
            break
        time.sleep(0.1)
    assert len(load_layers(schema_url)["roads"]) == 96
    assert sql_rows(schema_url, "SELECT nspname FROM pg_namespace WHERE nspname LIKE '\\_stage\\_%%'") == []
