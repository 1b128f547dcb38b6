"""The command line: ``python -m geo COMMAND …``.

Every command calls the same core functions as the app. Domain errors become one line on
stderr and exit code 1; usage errors exit 2 (argparse); nothing prints a traceback
unless ``NANGUAN_DEBUG=1`` is set.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd
from pyproj.exceptions import ProjError
from tqdm import tqdm

from layers import CATALOGUE, LAYER_NAMES, units_layer
from layers.labels import named_rows

from ._atomic import write_bytes_atomic
from ._table import text_table
from .coverage import check_coverage
from .crs import reproject, source_metric_crs
from .errors import RenewalError, SourceError, ValidationError
from .export import (
    EXPORT_CRS,
    EXPORT_ENCODINGS,
    EXPORT_FORMATS,
    csv_bytes,
    export_name,
    layers_bytes,
    xlsx_bytes,
)
from .filters import Filter, apply_filter
from .importer import import_file, prepare_layer, read_foreign
from .io import load_layers
from .progress import load_targets, plan_progress
from .settings import BASEMAPS, Settings
from .stats import district_stats, select_districts, stats_schema

__all__ = ["build_parser", "main"]

log = logging.getLogger(__name__)

FORMATS = ("table", "csv", "json")


def _render(frame: pd.DataFrame, fmt: str, *, for_file: bool) -> bytes:
    """``frame`` as bytes in ``fmt``; CSV files get a BOM so Excel reads the Chinese."""
    if fmt == "csv":
        buf = io.StringIO()
        frame.to_csv(buf, index=False, lineterminator="\n")
        return buf.getvalue().encode("utf-8-sig" if for_file else "utf-8")
    if fmt == "json":
        records = json.loads(frame.to_json(orient="records", double_precision=15))
        return (json.dumps(records, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    return (text_table(frame) + "\n").encode("utf-8")


def _emit(frame: pd.DataFrame, args: argparse.Namespace) -> None:
    if args.out:
        write_bytes_atomic(args.out, _render(frame, args.format, for_file=True))
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(_render(frame, args.format, for_file=False))
        sys.stdout.flush()


def cmd_stats(args: argparse.Namespace) -> None:
    """Per-district statistics of a source."""
    layers = load_layers(args.source)
    with tqdm(total=len(CATALOGUE) - 1, desc="measuring", unit="layer", disable=None, leave=False) as bar:
        table = district_stats(
            layers, crs=args.crs, tolerance_m2=args.overlap_tolerance, on_layer=lambda _name: bar.update()
        )
    for warning in table.attrs["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    table = named_rows(table, Settings.from_env().lang)
    if args.format == "table" and not args.wide:
        table = table[[c.name for c in stats_schema() if c.code is None]]
    _emit(table, args)


def cmd_progress(args: argparse.Namespace) -> None:
    """The plan's figures against a source."""
    layers = load_layers(args.source)
    frame = plan_progress(layers, load_targets(args.targets), crs=args.crs).reset_index()
    _emit(frame, args)


def cmd_validate(args: argparse.Namespace) -> None:
    """Check a file against the catalogue; every problem on its own line."""
    path = Path(args.file)
    try:
        if args.layer is None:
            layers = load_layers(path)
            if not layers:
                raise SourceError(f"{path}: holds none of the catalogue layers ({', '.join(LAYER_NAMES)})")
            _check_units(layers, args.overlap_tolerance)
            summary = ", ".join(f"{name} {len(gdf)}" for name, gdf in layers.items())
        else:
            gdf = read_foreign(
                path,
                table=args.table,
                layer=args.layer,
                from_crs=args.from_crs,
                encoding=args.encoding,
                max_unzipped_mb=Settings.from_env().max_unzipped_mb,
            )
            summary = f"{args.layer} {len(prepare_layer(gdf, args.layer).gdf)}"
    except ValidationError as exc:
        for problem in exc.problems:
            print(problem)
        raise
    print(f"ok: {path} conforms ({summary} features)")


def _check_units(layers: dict[str, pd.DataFrame], tolerance_m2: float) -> None:
    """Check the statistics units form a coverage; print the tolerated flaws."""
    units = units_layer()
    if units.name not in layers:
        return
    gdf = layers[units.name]
    geoms = reproject(gdf.geometry.to_numpy(), gdf.crs, source_metric_crs(layers))
    codes = gdf[units.id_field].astype(str).tolist()
    for issue in check_coverage(geoms, codes, tolerance_m2=tolerance_m2, layer=units.name):
        print(f"warning: {units.name}: {issue}")


def cmd_import(args: argparse.Namespace) -> None:
    """Replace one layer of a GeoPackage with a file's features, atomically."""
    result = import_file(
        args.file,
        args.layer,
        args.into,
        table=args.table,
        from_crs=args.from_crs,
        encoding=args.encoding,
        fix=args.fix,
        max_unzipped_mb=Settings.from_env().max_unzipped_mb,
    )
    repaired = f"; repaired geometries: {', '.join(result.repaired)}" if result.repaired else ""
    print(f"imported {len(result.gdf)} features into {args.into} as {args.layer}{repaired}")


def _export_bytes(args: argparse.Namespace) -> bytes:
    fmt = args.format
    if args.layer in ("stats", "progress"):
        if fmt not in ("csv", "xlsx"):
            raise SourceError(f"--layer {args.layer} is a table: use --format csv or xlsx")
        layers = load_layers(args.source)
        if args.layer == "stats":
            tolerance = Settings.from_env().overlap_tolerance_m2
            table = select_districts(district_stats(layers, tolerance_m2=tolerance), tuple(args.district))
            table = named_rows(table, Settings.from_env().lang)
        else:
            table = plan_progress(layers, load_targets(Settings.from_env().targets)).reset_index()
        return csv_bytes(table) if fmt == "csv" else xlsx_bytes({args.layer: table})
    names = LAYER_NAMES if args.layer == "all" else (args.layer,)
    source = load_layers(args.source)
    layers = apply_filter(source, Filter(districts=tuple(args.district)))
    missing = [n for n in names if n not in layers]
    if args.layer != "all" and missing:
        raise SourceError(f"{args.source}: has no layer {args.layer!r}")
    chosen = {n: layers[n] for n in names if n in layers}
    return layers_bytes(chosen, fmt, crs=args.crs, encoding=args.encoding, metric=source_metric_crs(source))


def cmd_export(args: argparse.Namespace) -> None:
    """Write a layer, all layers or a table for another GIS or a spreadsheet."""
    data = _export_bytes(args)
    out = args.out or export_name(args.layer, args.format, args.crs or "EPSG:4326")
    write_bytes_atomic(out, data)
    print(f"wrote {out}")


def cmd_map(args: argparse.Namespace) -> None:
    """A standalone HTML map that opens with no server and no internet."""
    from layers.labels import text
    from layers.mapbuild import MapOptions, map_html

    layers = apply_filter(load_layers(args.source), Filter(districts=tuple(args.district)))
    colour_by = tuple((layer, field) for layer, field in (c.split("=", 1) for c in args.colour_by))
    options = MapOptions(lang=args.lang, basemap=args.basemap, colour_by=colour_by)
    page = map_html(layers, options, title=text("title", args.lang))
    write_bytes_atomic(args.out, page.encode("utf-8"))
    print(f"wrote {args.out}")


def _add_source(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="SOURCE", help="a GeoPackage with the catalogue layers")


def _add_tolerance(p: argparse.ArgumentParser, settings: Settings) -> None:
    p.add_argument(
        "--overlap-tolerance",
        metavar="M2",
        type=float,
        default=settings.overlap_tolerance_m2,
        help="largest overlap of two sub-districts accepted, in m² (larger ones are refused; default 1)",
    )


def _add_reading(p: argparse.ArgumentParser) -> None:
    p.add_argument("--table", metavar="NAME", help="the GeoPackage table, or the Shapefile in a zip, to read")
    p.add_argument(
        "--from-crs",
        metavar="CRS",
        help="CRS of a file that declares none: EPSG:4326, EPSG:4490, EPSG:4551 …, or gcj02 / bd09",
    )
    p.add_argument("--encoding", metavar="E", help="text encoding where the file does not say (GBK, GB18030)")


def _add_output(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="table for people (default), csv or json for machines (UTF-8)",
    )
    p.add_argument("--out", metavar="FILE", help="write to FILE (replaced atomically) instead of standard output")
    p.add_argument(
        "--crs",
        metavar="EPSG:nnnn",
        help="metric CRS to measure in (default: the CGCS2000 Gauss-Kruger zone of the data, EPSG:4551)",
    )


def build_parser(settings: Settings | None = None) -> argparse.ArgumentParser:
    """The argument parser with every command."""
    settings = settings or Settings.from_env()
    parser = argparse.ArgumentParser(
        prog="python -m geo",
        description="南关城市更新一张图 — measure, check and convert the renewal layers.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log each step to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("stats", help="lengths, areas, counts and households per sub-district")
    _add_source(p)
    _add_output(p)
    p.add_argument("--wide", action="store_true", help="with --format table: include the breakdown columns")
    _add_tolerance(p, settings)
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("progress", help="the 2020 plan's figures against the data")
    _add_source(p)
    p.add_argument(
        "--targets", metavar="FILE", default=str(settings.targets), help="targets file (default: data/targets.toml)"
    )
    _add_output(p)
    p.set_defaults(func=cmd_progress)

    p = sub.add_parser("validate", help="check a file against the layer catalogue")
    p.add_argument("file", metavar="FILE", help="a GeoPackage of catalogue layers, or any readable file with --layer")
    p.add_argument("--layer", choices=LAYER_NAMES, help="the catalogue layer the file holds")
    _add_reading(p)
    _add_tolerance(p, settings)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("import", help="replace one layer of a GeoPackage with a file's features (atomically)")
    p.add_argument("file", metavar="FILE", help=".geojson, .gpkg, .zip (Shapefile), .shp, .kml or .csv")
    p.add_argument("--as", dest="layer", required=True, choices=LAYER_NAMES, help="the catalogue layer it becomes")
    p.add_argument("--into", required=True, metavar="TARGET.gpkg", help="GeoPackage to store it in (created if new)")
    _add_reading(p)
    p.add_argument("--fix", action="store_true", help="repair invalid geometries (their ids are reported)")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", help="write layers or tables for the municipal GIS or a spreadsheet")
    _add_source(p)
    p.add_argument(
        "--layer",
        required=True,
        choices=(*LAYER_NAMES, "all", "stats", "progress"),
        help="a layer, all layers (gpkg, shp, xlsx), or the stats / progress table (csv, xlsx)",
    )
    p.add_argument("--format", required=True, choices=EXPORT_FORMATS, help="output format")
    p.add_argument(
        "--crs", choices=EXPORT_CRS, help="CRS of the output (default EPSG:4326; gpkg keeps each layer's own)"
    )
    p.add_argument(
        "--encoding",
        choices=EXPORT_ENCODINGS,
        default="UTF-8",
        help="Shapefile text encoding: UTF-8 (default) or GBK for older ArcGIS/SuperMap",
    )
    p.add_argument(
        "--district",
        action="append",
        default=[],
        metavar="CODE",
        help="only features meeting this sub-district (repeatable)",
    )
    p.add_argument("--out", metavar="FILE", help="output file (default: layer_CRS_date.ext in this folder)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("map", help="a standalone HTML map that opens with no server and no internet")
    _add_source(p)
    p.add_argument("--out", required=True, metavar="FILE", help="the .html file to write")
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of labels (default zh)")
    p.add_argument(
        "--basemap", choices=BASEMAPS, default="none", help="tiles under the data (default none: works offline)"
    )
    p.add_argument(
        "--district",
        action="append",
        default=[],
        metavar="CODE",
        help="only features meeting this sub-district (repeatable)",
    )
    p.add_argument(
        "--colour-by",
        action="append",
        default=[],
        choices=[f"{s.name}={f}" for s in CATALOGUE.values() for f in s.style.by_options],
        metavar="LAYER=FIELD",
        help="colour a layer by another of its fields, e.g. roads=condition (repeatable)",
    )
    p.set_defaults(func=cmd_map)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    func: Callable[[argparse.Namespace], None] = args.func
    try:
        func(args)
    except RenewalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ProjError as exc:
        if Settings.from_env().debug:
            raise
        reason = str(exc).splitlines()[0] if str(exc) else "no transformation between these CRSs"
        print(f"error: cannot transform the coordinates ({reason}); check the CRS of the data", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        if Settings.from_env().debug:
            raise
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
