"""The command line: ``python -m geo COMMAND …``.

Every command calls the same core functions as the app. Domain errors become one line on
stderr and exit code 1; usage errors exit 2 (argparse); nothing prints a traceback
unless ``NANGUAN_DEBUG=1`` is set.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from pyproj import CRS
from pyproj.exceptions import ProjError
from tqdm import tqdm

from display.labels import source_title
from display.mapbuild import MapOptions, map_html
from geo._atomic import disk_full, write_bytes_atomic
from geo._table import text_table
from geo.conflicts import find_conflicts
from geo.coverage import check_coverage
from geo.crs import reproject, source_metric_crs
from geo.errors import RenewalError, SourceError, ValidationError, message, problem_text
from geo.export import (
    EXPORT_CRS,
    EXPORT_ENCODINGS,
    EXPORT_FORMATS,
    csv_bytes,
    export_name,
    layers_bytes,
    output_crs,
    write_gpkg,
    xlsx_bytes,
)
from geo.filters import Filter, apply_filter
from geo.impact import feature_area, impact, is_feature_ref, read_area
from geo.importer import import_file, prepare_layer, read_foreign
from geo.io import dataset_info, load_layers
from geo.labels import labelled_table, named_rows
from geo.oplog import acting_as, configure, operation
from geo.postgis import mask_url, parse_url, replaced_by_publish
from geo.precision import round_progress, round_stats
from geo.progress import Target, load_targets
from geo.settings import BASEMAPS, Settings
from geo.sources import source_progress, source_stats, source_targets
from geo.stats import select_districts, stats_schema
from geo.store import database_urls, open_source
from geo.transfer import publish, pull
from layers import CATALOGUE, LAYER_NAMES, units_layer

from .edits import add_edit_commands, parse_day
from .serve import add_app_command

__all__ = ["build_parser", "main"]

log = logging.getLogger(__name__)

FORMATS = ("table", "csv", "json")


def say(args: argparse.Namespace, code: str, *, err: bool = False, **values: Any) -> None:
    """Print the line ``code`` of :data:`geo.errors.MESSAGES` in the language of ``--lang``,
    on standard error when ``err`` (what a script reads stays on standard output)."""
    print(message(code, args.message_lang, **values), file=sys.stderr if err else sys.stdout)


def _render(frame: pd.DataFrame, fmt: str, *, for_file: bool) -> bytes:
    """``frame`` as bytes in ``fmt``; CSV files get a BOM so Excel reads the Chinese, and CSV
    text that would start a formula is neutralised as in exports."""
    if fmt == "csv":
        return csv_bytes(frame, bom=for_file)
    if fmt == "json":
        records = json.loads(frame.to_json(orient="records", double_precision=15))
        return (json.dumps(records, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    return (text_table(frame) + "\n").encode("utf-8")


def _emit(frame: pd.DataFrame, args: argparse.Namespace) -> None:
    if args.out:
        write_bytes_atomic(args.out, _render(frame, args.format, for_file=True))
        say(args, "cli.wrote", err=True, file=args.out)
    else:
        sys.stdout.buffer.write(_render(frame, args.format, for_file=False))
        sys.stdout.flush()


def cmd_stats(args: argparse.Namespace) -> None:
    """Per-district statistics of a source."""
    with tqdm(total=len(CATALOGUE) - 1, desc="measuring", unit="layer", disable=None, leave=False) as bar:
        table = source_stats(
            args.source, crs=args.crs, tolerance_m2=args.overlap_tolerance, on_layer=lambda _name: bar.update()
        )
    for warning in table.attrs.get("warnings_by_lang", {}).get(args.message_lang, table.attrs["warnings"]):
        say(args, "cli.warning", err=True, text=warning)
    table = named_rows(round_stats(table), Settings.from_env().lang)
    if args.format == "table" and not args.wide:
        table = table[[c.name for c in stats_schema() if c.code is None]]
    _emit(table, args)


def _targets(source: str, targets: str | None) -> list[Target]:
    """The targets file given, else the source's own plan; SourceError when there is none."""
    if targets:
        return load_targets(targets)
    found = source_targets(source)
    if found is None:
        raise SourceError("targets.none", file=source)
    return found


def cmd_progress(args: argparse.Namespace) -> None:
    """The plan's figures against a source."""
    targets = _targets(args.source, args.targets)
    # a database measures itself; a past day is rebuilt from the history
    frame = open_source(args.source).progress(targets, crs=args.crs, as_of=args.as_of)
    _emit(round_progress(frame).reset_index(), args)


def cmd_validate(args: argparse.Namespace) -> None:
    """Check a file against the catalogue; every problem on its own line."""
    source = open_source(args.file)
    path = source.location if source.is_database else Path(args.file)
    try:
        if args.layer is None:
            layers = load_layers(path)
            if not layers:
                raise SourceError("source.no_catalogue_layer", file=str(path), layers=LAYER_NAMES)
            _check_units(args, layers)
            summary = ", ".join(f"{name} {len(gdf)}" for name, gdf in layers.items())
        else:
            gdf = read_foreign(
                path,
                table=args.table,
                layer=args.layer,
                from_crs=args.from_crs,
                encoding=args.encoding,
                limits=Settings.from_env().limits,
            )
            summary = f"{args.layer} {len(prepare_layer(gdf, args.layer).gdf)}"
    except ValidationError as exc:
        for problem in exc.problems:
            print(problem_text(problem, args.message_lang))
        raise
    say(args, "cli.conforms", file=mask_url(str(path)), summary=summary)


def _check_units(args: argparse.Namespace, layers: dict[str, pd.DataFrame]) -> None:
    """Check the statistics units form a coverage; print the tolerated flaws."""
    units = units_layer()
    if units.name not in layers:
        return
    gdf = layers[units.name]
    geoms = reproject(gdf.geometry.to_numpy(), gdf.crs, source_metric_crs(layers))
    codes = gdf[units.id_field].astype(str).tolist()
    for issue in check_coverage(geoms, codes, tolerance_m2=args.overlap_tolerance, layer=units.name):
        say(args, "cli.layer_warning", layer=units.name, text=issue.text(args.message_lang))


def cmd_import(args: argparse.Namespace) -> None:
    """Replace one layer of a GeoPackage with a file's features, atomically."""
    into = open_source(args.into)
    if not into.exists() and not args.create:
        raise SourceError("source.into_missing", file=args.into)
    if into.exists() and args.layer in into.table_names():
        _confirm(args, "cli.replaces_layer", layer=args.layer, target=mask_url(args.into))
    result = import_file(
        args.file,
        args.layer,
        args.into,
        table=args.table,
        from_crs=args.from_crs,
        encoding=args.encoding,
        fix=args.fix,
        limits=Settings.from_env().limits,
        by=args.by,
    )
    done = {"count": len(result.gdf), "target": mask_url(args.into), "layer": args.layer}
    if result.repaired:
        say(args, "cli.imported_repaired", ids=tuple(result.repaired), **done)
    else:
        say(args, "cli.imported", **done)


def _export_table(args: argparse.Namespace) -> bytes:
    """The stats or progress table as CSV or XLSX bytes."""
    if args.format not in ("csv", "xlsx"):
        raise SourceError("export.table_format", layer=args.layer)
    if args.layer == "stats":
        tolerance = Settings.from_env().overlap_tolerance_m2
        table = round_stats(select_districts(source_stats(args.source, tolerance_m2=tolerance), tuple(args.district)))
        if args.chinese_labels:
            table = labelled_table(table, "zh")
        else:
            table = named_rows(table, Settings.from_env().lang)
    else:
        targets = Settings.from_env().targets
        frame = source_progress(args.source, _targets(args.source, str(targets) if targets else None))
        table = round_progress(frame).reset_index()
    return csv_bytes(table) if args.format == "csv" else xlsx_bytes({args.layer: table})


def _export_layers(args: argparse.Namespace) -> tuple[dict[str, gpd.GeoDataFrame], CRS]:
    """The layers ``--layer`` names, filtered by ``--district``, and the source's metric CRS."""
    names = LAYER_NAMES if args.layer == "all" else (args.layer,)
    source = load_layers(args.source)
    layers = apply_filter(source, Filter(districts=tuple(args.district)))
    if args.layer != "all" and args.layer not in layers:
        raise SourceError("source.no_layer", file=args.source, layer=args.layer)
    return {n: layers[n] for n in names if n in layers}, source_metric_crs(source)


def cmd_export(args: argparse.Namespace) -> None:
    """Write a layer, all layers or a table for another GIS or a spreadsheet."""
    with operation("export", source=args.source, layer=args.layer, format=args.format, crs=args.crs) as record:
        if args.layer in ("stats", "progress"):
            data = _export_table(args)
            out = args.out or export_name(args.layer, args.format, None)
            write_bytes_atomic(out, data)
        else:
            chosen, metric = _export_layers(args)
            out = args.out or export_name(args.layer, args.format, output_crs(chosen, args.format, args.crs))
            record.update(layer=",".join(chosen), features=sum(len(g) for g in chosen.values()))
            if args.format == "gpkg" and not args.chinese_labels:
                # straight into the temporary file beside ``out``: a large GeoPackage is not held in memory
                write_gpkg(chosen, out, crs=args.crs)
            else:
                data = layers_bytes(
                    chosen, args.format, crs=args.crs, encoding=args.encoding, metric=metric, labels=args.chinese_labels
                )
                write_bytes_atomic(out, data)
        record["out"] = str(out)
    say(args, "cli.wrote", file=out)


def cmd_map(args: argparse.Namespace) -> None:
    """A standalone HTML map that opens with no server and no internet."""
    layers = load_layers(args.source)
    districts = tuple(args.district)
    colour_by = tuple((layer, field) for layer, field in (c.split("=", 1) for c in args.colour_by))
    title, _ = source_title(dataset_info(args.source), Path(args.source).name, args.lang)
    options = MapOptions(
        lang=args.lang,
        basemap=args.basemap,
        budget=Settings.from_env().map_features,
        colour_by=colour_by,
        selected=districts,
    )
    # the app's pipeline: the chosen sub-districts' works, the neighbours drawn dimmed
    page = map_html(layers, options, flt=Filter(districts=districts), title=title)
    write_bytes_atomic(args.out, page.encode("utf-8"))
    say(args, "cli.wrote", file=args.out)


def _confirm(args: argparse.Namespace, code: str, **values: Any) -> None:
    """At a terminal, say what a destructive step will replace and ask first (``--yes``
    skips it); a script is told in the command's closing line."""
    if getattr(args, "yes", False) or not sys.stdin.isatty():
        return
    say(args, code, err=True, **values)
    answer = input(message("cli.ask", args.message_lang)).strip().lower()
    if answer not in ("y", "yes", "是"):
        raise SourceError("cli.cancelled")


def cmd_publish(args: argparse.Namespace) -> None:
    """Validate every layer of a source and write them into a PostGIS schema."""
    db = parse_url(args.url, schema=args.schema)
    replaced = replaced_by_publish(db) if args.replace else {}
    shown = ", ".join(f"{name} {n}" for name, n in replaced.items())
    if replaced:
        _confirm(args, "cli.replaces_tables", url=db.masked, replaced=shown)
    written = publish(args.source, args.url, schema=args.schema, replace=args.replace, by=args.by)
    layers = ", ".join(f"{name} {n}" for name, n in written.items())
    if replaced:
        say(args, "cli.published_replaced", layers=layers, url=db.masked, replaced=shown)
    else:
        say(args, "cli.published", layers=layers, url=db.masked)


def cmd_pull(args: argparse.Namespace) -> None:
    """Write a PostGIS source, its dataset_info and change history back into a GeoPackage."""
    if args.replace and Path(args.target).exists():
        _confirm(args, "cli.replaces_file", file=args.target)
    written = pull(args.url, args.target, schema=args.schema, replace=args.replace)
    layers = ", ".join(f"{name} {n}" for name, n in written.items())
    say(args, "cli.pulled", layers=layers, file=args.target)


def _impact_text(summary: dict[str, object], features: pd.DataFrame) -> str:
    """The impact report for people: one figure a line, then the touched features."""
    lines = [f"{key}: {value}" for key, value in summary.items() if not isinstance(value, dict | list)]
    lines += [
        f"{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in summary.items() if isinstance(value, dict)
    ]
    shown = features.astype(object).where(features.notna(), "")
    return "\n".join(lines) + ("\n\n" + text_table(shown) if len(features) else "") + "\n"


def cmd_impact(args: argparse.Namespace) -> None:
    """What an area, a corridor or a buffered point touches."""
    if is_feature_ref(args.area):  # a feature of the source itself, e.g. a key area
        layers = load_layers(args.source)
        area = feature_area(layers, args.area)
    else:
        area = read_area(args.area, limits=Settings.from_env().limits)
        layers = load_layers(args.source)
    result = impact(layers, area, buffer_m=args.buffer, crs=args.crs)
    if not result.touches_data:
        say(args, "cli.outside", err=True)
    if args.format == "json":
        data = (json.dumps(result.summary(), ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    elif args.format == "csv":
        data = _render(result.features, "csv", for_file=bool(args.out))
    else:
        data = _impact_text(result.summary(), result.features).encode("utf-8")
    if args.out:
        write_bytes_atomic(args.out, data)
        say(args, "cli.wrote", err=True, file=args.out)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


def cmd_conflicts(args: argparse.Namespace) -> None:
    """Every plan conflict of a source: both ids, the kind and the measured overlap."""
    found = find_conflicts(load_layers(args.source), crs=args.crs)
    _emit(pd.DataFrame(found.drop(columns="geometry")), args)


def _add_source(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "source", metavar="SOURCE", help="a GeoPackage, or a postgresql://user@host/db?schema=S URL, with the layers"
    )


def _add_tolerance(p: argparse.ArgumentParser, settings: Settings) -> None:
    tolerance = Settings.declaration("overlap_tolerance_m2")
    p.add_argument(
        "--overlap-tolerance",
        metavar="M2",
        type=float,
        default=settings.overlap_tolerance_m2,
        help=f"{tolerance.help} (default: {tolerance.name}, else {tolerance.default})",
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
    parser.add_argument(
        "--lang",
        dest="message_lang",
        choices=("en", "zh"),
        default="en",
        help="language of error messages and problems (default en)",
    )
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
        "--targets",
        metavar="FILE",
        default=str(settings.targets) if settings.targets else None,
        help="targets file (default: the source's own, from its dataset_info or <name>.targets.toml)",
    )
    p.add_argument(
        "--as-of", type=parse_day, metavar="YYYY-MM-DD", help="the figures as they stood on that day (from the history)"
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
    p.add_argument(
        "--into",
        required=True,
        metavar="TARGET",
        help="GeoPackage to store it in (created if new), or a postgresql:// URL (one transaction)",
    )
    p.add_argument("--create", action="store_true", help="make TARGET.gpkg when it does not exist (refused otherwise)")
    _add_reading(p)
    p.add_argument("--fix", action="store_true", help="repair invalid geometries (their ids are reported)")
    p.add_argument("--by", default="", metavar="NAME", help="who imports it, for the change history")
    p.add_argument("--yes", action="store_true", help="replace an existing layer without asking at a terminal")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("publish", help="write every layer, validated, into a PostGIS schema (one transaction)")
    _add_source(p)
    p.add_argument("url", metavar="URL", help="postgresql://user[:password]@host:port/db[?schema=S]")
    p.add_argument("--schema", metavar="S", help="the schema to write (default: the URL's, else nanguan)")
    p.add_argument(
        "--replace", action="store_true", help="replace the tool's own tables in a schema it published before"
    )
    p.add_argument("--yes", action="store_true", help="replace without asking at a terminal (for scripts)")
    p.add_argument("--by", default="", metavar="NAME", help="who publishes, for the change history")
    p.set_defaults(func=cmd_publish)

    p = sub.add_parser("pull", help="write a PostGIS source back into a GeoPackage, with its change history")
    p.add_argument("url", metavar="URL", help="postgresql://user[:password]@host:port/db[?schema=S]")
    p.add_argument("target", metavar="GPKG", help="the GeoPackage to write (replaced atomically)")
    p.add_argument("--schema", metavar="S", help="the schema to read (default: the URL's, else nanguan)")
    p.add_argument("--replace", action="store_true", help="replace the GeoPackage when it exists")
    p.add_argument("--yes", action="store_true", help="replace without asking at a terminal (for scripts)")
    p.set_defaults(func=cmd_pull)

    add_edit_commands(sub)
    add_app_command(sub)

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
        "--crs",
        choices=EXPORT_CRS,
        help="CRS of every layer in the output (default EPSG:4326; gpkg keeps the source's)",
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
    p.add_argument(
        "--chinese-labels",
        action="store_true",
        help="Chinese field names and value labels (名称, 状态 = 规划) for people; default: codes for machines",
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

    p = sub.add_parser("impact", help="what an area, a corridor or a buffered point would touch")
    _add_source(p)
    p.add_argument(
        "--area",
        required=True,
        metavar="AREA",
        help="a GeoJSON file, WKT in WGS 84 (lon/lat), or a feature of the source as LAYER:ID (areas:A04)",
    )
    p.add_argument(
        "--buffer",
        type=float,
        default=0.0,
        metavar="M",
        help="metres around the area, on each side of a line (needed for lines and points; default 0)",
    )
    _add_output(p)
    p.set_defaults(func=cmd_impact)

    p = sub.add_parser("conflicts", help="plan conflicts between layers, each with both ids and the overlap")
    _add_source(p)
    _add_output(p)
    p.set_defaults(func=cmd_conflicts)
    return parser


def _system_user() -> str:
    """Who runs the command, for the operation log of writes that name no one (``--by``)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return ""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if args.command == "app":
        args.streamlit_args = unknown  # streamlit run's options, passed on
    elif unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    settings = Settings.from_env()
    urls = database_urls(list(vars(args).values()))
    log_file = settings.log_file or ("-" if args.verbose else "")
    configure(log_file, settings.log_level, secrets=(settings.tianditu_key, settings.db_url, *urls))
    func: Callable[[argparse.Namespace], None] = args.func
    try:
        with acting_as(_system_user()):
            func(args)
    except RenewalError as exc:
        say(args, "cli.error", err=True, text=mask_url(message(exc, args.message_lang)))
        return 1
    except ProjError as exc:
        if Settings.from_env().debug:
            raise
        reason = str(exc).splitlines()[0] if str(exc) else "no transformation between these CRSs"
        say(args, "cli.transform_failed", err=True, reason=reason)
        return 1
    except (OSError, ValueError) as exc:
        if Settings.from_env().debug:
            raise
        if disk_full(exc):  # the message would name a temporary path
            say(args, "cli.error", err=True, text=message(SourceError("disk.full"), args.message_lang))
            return 1
        say(args, "cli.unexpected", err=True, kind=type(exc).__name__, text=mask_url(str(exc)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
