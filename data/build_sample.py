"""Build the schematic sample dataset ``data/nanguan.gpkg`` from authored control points.

Run ``python data/build_sample.py [OUT.gpkg]``. The output is deterministic: the same
features, attributes and coordinates on every run.

What is real: the district outline (after the 天地图 county boundary, simplified), the
names and statistical codes of the 14 sub-district units, the place names and the figures
of the 2020 work plan (96 road segments / 38.4 km, 12 pipelines / 15.5 km, 278 resettled
households, 70 ha of greenbelt along 人民大街南段, 109 pump stations, 3 schools, 2 rivers
with monitored sections, the named key areas). What is schematic: every geometry inside
the outline, the road conditions and survey dates, the river courses and the water-quality
classes. No public source gives the sub-district boundaries or the plan's parcels, roads,
pipes and areas, so they are placed plausibly from hand-picked control points; the dataset
says so in its metadata.

Construction happens in CGCS2000 / 3-degree Gauss-Kruger CM 126E (EPSG:4551), metres;
the file stores EPSG:4326.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import Transformer
from shapely import affinity
from shapely.geometry import LineString, MultiPoint, Point, Polygon
from shapely.ops import substring

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUTLINE_FILE = HERE / "nanguan_outline.geojson"
SUBDISTRICTS_FILE = HERE / "nanguan_subdistricts.csv"
METRIC = "EPSG:4551"

_to_m = Transformer.from_crs(4326, METRIC, always_xy=True)

SCHEMATIC_NOTE = (
    "示意数据：街道边界、地块、道路、管线、绿地、设施、河道、断面和重点区域的位置为示意，"
    "路况与水质类别为示意，名称、区划代码和数量取自《南关区2020年工作计划》（长春日报 2020-01-08）。"
    " Schematic sample: real names, codes and plan figures; geometries, road conditions and "
    "water-quality classes are placed plausibly inside the real district outline, not surveyed."
)
OUTLINE_CREDIT = "区界：据天地图县级行政区划边界简化 (outline after 天地图 county boundary, simplified)"


def m(lon: float, lat: float) -> tuple[float, float]:
    """Metric (EPSG:4551) coordinates of a lon/lat control point, metres."""
    x, y = _to_m.transform(lon, lat)
    return (float(x), float(y))


def line(points: Sequence[tuple[float, float]]) -> LineString:
    """A metric line through lon/lat control points."""
    return LineString([m(*p) for p in points])


def rect(lon: float, lat: float, width_m: float, height_m: float, angle_deg: float = 0.0) -> Polygon:
    """A metric rectangle centred on a lon/lat point, rotated anticlockwise by ``angle_deg``."""
    x, y = m(lon, lat)
    box = shapely.box(x - width_m / 2, y - height_m / 2, x + width_m / 2, y + height_m / 2)
    return affinity.rotate(box, angle_deg, origin=(x, y))


# --------------------------------------------------------------------------- districts

#: Seed of each unit's Voronoi cell (lon, lat): the 12 old-town 街道 small in the north,
#: 明珠, 富裕, 盛世 in the new town and 幸福乡 taking the rural south.
DISTRICT_SEEDS: dict[str, tuple[float, float]] = {
    "220102001": (125.3400, 43.8560),  # 南岭
    "220102002": (125.3370, 43.8950),  # 自强
    "220102003": (125.3470, 43.8870),  # 民康
    "220102004": (125.3290, 43.8840),  # 新春
    "220102005": (125.3460, 43.8760),  # 长通
    "220102006": (125.3290, 43.8720),  # 全安
    "220102007": (125.3390, 43.8660),  # 曙光
    "220102008": (125.3280, 43.8590),  # 永吉
    "220102009": (125.3560, 43.8500),  # 桃源
    "220102010": (125.3800, 43.8380),  # 鸿城
    "220102011": (125.3000, 43.7950),  # 明珠
    "220102012": (125.4500, 43.8150),  # 富裕
    "220102013": (125.3800, 43.7850),  # 盛世
    "220102200": (125.4500, 43.6700),  # 幸福乡
}


def build_districts(outline_m: shapely.Geometry) -> gpd.GeoDataFrame:
    """The 14 units as Voronoi cells of their seeds, clipped to the outline: a tiling."""
    with SUBDISTRICTS_FILE.open(encoding="utf-8") as fh:
        units = list(csv.DictReader(fh))
    codes = [u["code9"] for u in units]
    seeds = MultiPoint([m(*DISTRICT_SEEDS[c]) for c in codes])
    cells = shapely.voronoi_polygons(seeds, extend_to=outline_m.envelope.buffer(5000))
    by_seed = {}
    for cell in cells.geoms:
        for i, seed in enumerate(seeds.geoms):
            if cell.contains(seed):
                by_seed[i] = cell
    geoms = [shapely.intersection(by_seed[i], outline_m) for i in range(len(codes))]
    return gpd.GeoDataFrame(
        {
            "code": codes,
            "name": [u["name"] for u in units],
            "kind": [u["type"] for u in units],
        },
        geometry=geoms,
        crs=METRIC,
    )


# --------------------------------------------------------------------------- roads

#: (name, class, project, status of each segment in turn, control points lon/lat)
ROADS: list[tuple[str, str, str | None, tuple[str, ...], list[tuple[float, float]]]] = [
    (
        "甲一路",
        "arterial",
        "甲一路",
        ("under_construction",) * 7 + ("open",) * 3,
        [(125.350, 43.792), (125.372, 43.793), (125.395, 43.791), (125.418, 43.790)],
    ),
    (
        "甲二路",
        "arterial",
        "甲二路",
        ("under_construction",) * 6 + ("open",) * 3,
        [(125.385, 43.806), (125.386, 43.795), (125.384, 43.778), (125.385, 43.762)],
    ),
    ("乙一路", "collector", "南部路网", ("planned",) * 6, [(125.352, 43.780), (125.375, 43.779), (125.398, 43.779)]),
    ("乙二路", "collector", "南部路网", ("planned",) * 5, [(125.365, 43.808), (125.366, 43.790), (125.366, 43.774)]),
    (
        "乙三路",
        "collector",
        "南部路网",
        ("planned",) * 4 + ("under_construction",),
        [(125.402, 43.810), (125.404, 43.792), (125.403, 43.770)],
    ),
    ("丙一路", "local", "南部路网", ("planned",) * 4, [(125.356, 43.800), (125.372, 43.801), (125.379, 43.801)]),
    ("丙二路", "local", "南部路网", ("planned",) * 4, [(125.391, 43.785), (125.404, 43.785), (125.414, 43.784)]),
    (
        "亚泰大街南延",
        "arterial",
        "亚泰大街南延",
        ("planned",) * 8,
        [(125.362, 43.840), (125.361, 43.820), (125.360, 43.800), (125.358, 43.784)],
    ),
    (
        "前进大街南延",
        "arterial",
        "前进大街南延",
        ("planned",) * 5 + ("under_construction",) * 3,
        [(125.300, 43.815), (125.305, 43.797), (125.310, 43.780), (125.316, 43.765)],
    ),
    ("东岭南街", "collector", "道路翻新", ("open",) * 5, [(125.341, 43.893), (125.341, 43.880), (125.342, 43.868)]),
    ("清明街", "local", "道路翻新", ("open",) * 4, [(125.329, 43.889), (125.331, 43.877), (125.333, 43.866)]),
    ("南湖大路", "arterial", None, ("open",) * 5, [(125.322, 43.862), (125.340, 43.853), (125.356, 43.846)]),
    (
        "净月大街",
        "arterial",
        None,
        ("open",) * 5,
        [(125.410, 43.835), (125.425, 43.822), (125.440, 43.810), (125.452, 43.802)],
    ),
    (
        "生态大街",
        "arterial",
        None,
        ("open",) * 4 + ("under_construction",) * 3,
        [(125.280, 43.805), (125.282, 43.790), (125.287, 43.772), (125.290, 43.760)],
    ),
    (
        "绕城高速连接线",
        "collector",
        "绕城以南",
        ("planned",) * 4 + ("under_construction",) * 2,
        [(125.420, 43.760), (125.432, 43.745), (125.445, 43.732)],
    ),
    (
        "伊通河东路",
        "collector",
        "八一片区",
        ("open",) * 3 + ("under_construction",) * 2,
        [(125.372, 43.846), (125.380, 43.832), (125.388, 43.822)],
    ),
]

ROADS_TARGET_M = 38_400.0

#: Condition of each built (open) segment in turn at the last survey, and its date:
#: 东岭南街 and 清明街, due for renovation (道路翻新), are the worn ones. Segments not yet
#: open have no condition. Schematic, like the geometries.
CONDITIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "甲一路": ("2019-11-06", ("good",) * 3),
    "甲二路": ("2019-11-06", ("good",) * 3),
    "东岭南街": ("2019-10-15", ("severe", "severe", "minor", "severe", "minor")),
    "清明街": ("2019-10-15", ("minor", "severe", "minor", "minor")),
    "南湖大路": ("2019-10-17", ("good", "good", "minor", "good", "good")),
    "净月大街": ("2019-10-22", ("good",) * 5),
    "生态大街": ("2019-10-22", ("good",) * 4),
    "伊通河东路": ("2019-10-24", ("good", "good", "minor")),
}


def split_equal(geom: LineString, n: int) -> list[LineString]:
    """``geom`` cut into ``n`` pieces of equal length."""
    step = geom.length / n
    return [substring(geom, i * step, (i + 1) * step) for i in range(n)]


def scale_lines(lines: list[LineString], target_m: float) -> list[LineString]:
    """Stretch each line about its first point so that all together measure ``target_m``."""
    factor = target_m / sum(ln.length for ln in lines)
    return [affinity.scale(ln, factor, factor, origin=Point(ln.coords[0])) for ln in lines]


def build_roads() -> gpd.GeoDataFrame:
    """96 road segments of 38.4 km, split from named roads."""
    roads = scale_lines([line(pts) for *_, pts in ROADS], ROADS_TARGET_M)
    rows = []
    for (name, road_class, project, statuses, _), geom in zip(ROADS, roads, strict=True):
        surveyed, conditions = CONDITIONS.get(name, (None, ()))
        built = iter(conditions)
        for k, (seg, status) in enumerate(zip(split_equal(geom, len(statuses)), statuses, strict=True), 1):
            condition = next(built) if status == "open" else None
            rows.append(
                {
                    "seg_id": f"R{len(rows) + 1:03d}",
                    "name": f"{name}（{k}段）",
                    "road_class": road_class,
                    "status": status,
                    "project": project,
                    "condition": condition,
                    "surveyed": surveyed if condition else None,
                    "geometry": seg,
                }
            )
        if next(built, None) is not None:
            raise SystemExit(f"{name}: more conditions than open segments")
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=METRIC)


# --------------------------------------------------------------------------- pipes

PIPES: list[tuple[str, str, str, float | None, list[tuple[float, float]]]] = [
    (
        "冠城国际供水管线",
        "water",
        "under_construction",
        600.0,
        [(125.370, 43.806), (125.378, 43.799), (125.390, 43.797)],
    ),
    ("甲一路给水干管", "water", "planned", 800.0, [(125.352, 43.7935), (125.380, 43.7945)]),
    ("甲二路给水管", "water", "complete", 400.0, [(125.3865, 43.810), (125.3875, 43.790)]),
    (
        "高压管廊（5号匝道段）",
        "power",
        "under_construction",
        None,
        [(125.420, 43.790), (125.432, 43.781), (125.441, 43.776)],
    ),
    (
        "高压管廊（服务区段）",
        "power",
        "under_construction",
        None,
        [(125.441, 43.776), (125.452, 43.772), (125.463, 43.766)],
    ),
    ("甲二路电力管沟", "power", "planned", None, [(125.3835, 43.808), (125.3845, 43.780)]),
    (
        "南部新城供热干线",
        "heat",
        "under_construction",
        700.0,
        [(125.352, 43.789), (125.366, 43.786), (125.382, 43.787)],
    ),
    ("盛世供热支线", "heat", "planned", 300.0, [(125.397, 43.776), (125.405, 43.768)]),
    ("乙一路燃气管", "gas", "planned", 300.0, [(125.354, 43.7815), (125.375, 43.7805)]),
    ("甲一路燃气管", "gas", "complete", 250.0, [(125.390, 43.7925), (125.412, 43.7915)]),
    ("南部新城通信管道", "telecom", "under_construction", 110.0, [(125.356, 43.7985), (125.378, 43.7990)]),
    ("冠城国际通信管道", "telecom", "complete", 110.0, [(125.372, 43.808), (125.381, 43.803)]),
]

PIPES_TARGET_M = 15_500.0


def build_pipes() -> gpd.GeoDataFrame:
    """12 pipelines over the five utilities, 15.5 km in all."""
    geoms = scale_lines([line(pts) for *_, pts in PIPES], PIPES_TARGET_M)
    rows = [
        {"pipe_id": f"P{i:02d}", "name": name, "utility": utility, "status": status, "diam_mm": diam, "geometry": geom}
        for i, ((name, utility, status, diam, _), geom) in enumerate(zip(PIPES, geoms, strict=True), 1)
    ]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=METRIC)


# --------------------------------------------------------------------------- parcels

#: (name, kind, status, households, resettled, centre lon/lat, width m, height m, angle)
PARCELS: list[tuple[str, str, str, int, int, tuple[float, float], float, float, float]] = [
    ("珲春街棚户区", "shantytown", "resettled", 96, 74, (125.3440, 43.8830), 260, 180, 12),
    ("新民胡同棚户区", "shantytown", "under_construction", 88, 61, (125.3330, 43.8790), 220, 160, -8),
    ("东三条街棚户区", "shantytown", "under_construction", 72, 52, (125.3430, 43.8730), 200, 150, 5),
    ("长通路棚户区", "shantytown", "resettled", 64, 49, (125.3350, 43.8625), 240, 140, 20),
    ("全安街棚户区", "shantytown", "under_construction", 58, 42, (125.3255, 43.8700), 180, 160, 0),
    ("平阳街棚改地块", "expropriation", "planned", 143, 0, (125.3420, 43.8905), 200, 140, -5),
    ("岳阳街棚改地块", "expropriation", "planned", 121, 0, (125.3520, 43.8590), 210, 170, 15),
    ("西五马路棚改地块", "expropriation", "planned", 97, 0, (125.3300, 43.8880), 160, 150, 0),
    ("曙光路棚改地块", "expropriation", "planned", 84, 0, (125.3400, 43.8680), 190, 130, 30),
    ("伊通河南南段", "expropriation", "expropriating", 35, 0, (125.3720, 43.8400), 600, 300, 55),
    ("伊通河棚户区", "expropriation", "expropriating", 52, 0, (125.3640, 43.8520), 450, 250, 40),
    ("南部路网征收", "expropriation", "expropriating", 18, 0, (125.3750, 43.7960), 700, 200, 0),
    ("八一村片区", "expropriation", "expropriating", 210, 0, (125.3950, 43.8250), 900, 600, 10),
    ("轨道交通6号线用地", "expropriation", "planned", 12, 0, (125.3620, 43.8200), 120, 900, 0),
    ("前进大街南延用地", "expropriation", "planned", 9, 0, (125.3060, 43.7920), 150, 1000, 15),
    ("亚泰大街南延节点", "expropriation", "planned", 6, 0, (125.3600, 43.7950), 300, 300, 0),
    ("南岭老旧小区", "old_community", "under_construction", 420, 0, (125.3420, 43.8540), 300, 220, 0),
]


def build_parcels() -> gpd.GeoDataFrame:
    """Renewal parcels: 5 shantytown areas resettling 278 households, expropriation plots."""
    rows = [
        {
            "parcel_id": f"D{i:02d}",
            "name": name,
            "kind": kind,
            "status": status,
            "households": hh,
            "resettled": rs,
            "geometry": rect(*centre, w, h, a),
        }
        for i, (name, kind, status, hh, rs, centre, w, h, a) in enumerate(PARCELS, 1)
    ]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=METRIC)


# --------------------------------------------------------------------------- greenbelt

RENMIN_STRIP_M2 = 175_000.0  # four strips make the plan's 700,000 m²


def build_greenbelt() -> gpd.GeoDataFrame:
    """The 人民大街南段 greenbelt (4 strips, 70 ha) and the showcase greening projects."""
    x0, y0 = m(125.3330, 43.8400)
    width, length = 50.0, RENMIN_STRIP_M2 / 50.0
    strips = []
    for _k, (dx, dy) in enumerate(((-80, 0), (30, 0), (-80, -length - 100), (30, -length - 100)), 1):
        side = "西侧" if dx < 0 else "东侧"
        section = "北段" if dy == 0 else "南段"
        strips.append(
            (
                f"人民大街南段绿地（{section}{side}）",
                "roadside",
                "adjusted",
                shapely.box(x0 + dx, y0 + dy - length, x0 + dx + width, y0 + dy),
            )
        )
    others = [
        ("锦湖大路绿化精品工程", "roadside", "planned", rect(125.4000, 43.8050, 1600, 40, 5)),
        ("芳草街绿化精品工程", "roadside", "planned", rect(125.3700, 43.8120, 40, 900, 0)),
        ("伊通河滨水绿地", "waterfront", "existing", rect(125.3760, 43.8330, 150, 1400, 35)),
        ("八一片区滨水空间", "waterfront", "planned", rect(125.4050, 43.8180, 400, 700, 30)),
        ("孔子文化园", "park", "existing", rect(125.3440, 43.8930, 160, 120, 0)),
        ("绕城高速防护林带", "protective", "existing", rect(125.4300, 43.7500, 2000, 60, 40)),
    ]
    rows = [
        {"green_id": f"G{i:02d}", "name": n, "kind": k, "status": s, "geometry": g}
        for i, (n, k, s, g) in enumerate(strips + others, 1)
    ]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=METRIC)


# --------------------------------------------------------------------------- facilities

PUMP_STATIONS = 109

FACILITIES: list[tuple[str, str, str, tuple[float, float]]] = [
    ("南关区第二实验学校", "school", "under_construction", (125.3720, 43.7990)),
    ("南部新城第一学校", "school", "planned", (125.3940, 43.7860)),
    ("富裕公办学校", "school", "planned", (125.4250, 43.8120)),
    ("国文医院", "hospital", "under_construction", (125.3800, 43.8050)),
    ("区妇幼保健院（新址）", "hospital", "planned", (125.3560, 43.8300)),
    ("区疾控中心（新址）", "hospital", "planned", (125.3600, 43.8280)),
    ("南关区图书新馆", "library", "under_construction", (125.3400, 43.8800)),
    ("高速公路5号匝道（高压管廊节点）", "other", "under_construction", (125.4410, 43.7760)),
    ("服务区（高压管廊节点）", "other", "under_construction", (125.4630, 43.7660)),
    ("生活垃圾处置中心", "other", "planned", (125.4700, 43.7000)),
]


def pump_station_points(old_town: shapely.Geometry, n: int) -> list[Point]:
    """``n`` pump stations spread over the old town, from a fixed random seed."""
    rng = np.random.default_rng(20200108)
    xmin, ymin, xmax, ymax = old_town.bounds
    points: list[Point] = []
    while len(points) < n:
        p = Point(rng.uniform(xmin, xmax), rng.uniform(ymin, ymax))
        if old_town.buffer(-60).contains(p):
            points.append(p)
    return points


def build_facilities(districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """109 secondary water-supply pump stations and the plan's public facilities."""
    old_town = districts.loc[districts["code"].str[-3:].astype(int) <= 9].union_all()
    pumps = pump_station_points(old_town, PUMP_STATIONS)
    rows = [
        {
            "name": f"二次供水泵站{i:03d}",
            "kind": "pump_station",
            "status": "existing" if i % 5 else "under_construction",
            "geometry": p,
        }
        for i, p in enumerate(pumps, 1)
    ]
    rows += [{"name": n, "kind": k, "status": s, "geometry": Point(m(*pt))} for n, k, s, pt in FACILITIES]
    for i, row in enumerate(rows, 1):
        row["fac_id"] = f"F{i:03d}"
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=METRIC)[["fac_id", "name", "kind", "status", "geometry"]]


# --------------------------------------------------------------------------- rivers

#: The plan's "域内2条河流": 伊通河, which the plan names, and 永春河, its tributary meeting it
#: at 南溪湿地 (the plan does not name the second river). (id, name, kind, lon/lat from
#: upstream; the courses are schematic and end where they leave the district.)
RIVERS: list[tuple[str, str, str, list[tuple[float, float]]]] = [
    (
        "W01",
        "伊通河",
        "main",
        [
            (125.3545, 43.7225),
            (125.3600, 43.7350),
            (125.3800, 43.7600),
            (125.3950, 43.7780),
            (125.3965, 43.7960),
            (125.3930, 43.8120),
            (125.3840, 43.8240),
            (125.3760, 43.8340),
            (125.3690, 43.8450),
            (125.3640, 43.8560),
            (125.3680, 43.8700),
        ],
    ),
    (
        "W02",
        "永春河",
        "tributary",
        [(125.4750, 43.7350), (125.4550, 43.7480), (125.4350, 43.7620), (125.4150, 43.7720), (125.3955, 43.7790)],
    ),
]

#: Monitoring sections (断面): (river, section, water-quality class, sampled, lon/lat).
SECTIONS: list[tuple[str, str, str, str, tuple[float, float]]] = [
    ("伊通河", "伊通河入境断面", "III", "2019-12-10", (125.3560, 43.7280)),
    ("伊通河", "南溪湿地断面", "IV", "2019-12-10", (125.3962, 43.7860)),
    ("伊通河", "伊通河出境断面", "IV", "2019-12-11", (125.3650, 43.8580)),
    ("永春河", "永春河上游断面", "III", "2019-12-09", (125.4560, 43.7475)),
    ("永春河", "永春河入河口断面", "V", "2019-12-09", (125.4050, 43.7760)),
]


def build_rivers(outline: shapely.Geometry) -> gpd.GeoDataFrame:
    """The two rivers, each the reach inside the district."""
    rows = [
        {"river_id": rid, "name": name, "kind": kind, "geometry": shapely.intersection(line(pts), outline)}
        for rid, name, kind, pts in RIVERS
    ]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=METRIC)


def build_monitoring_points(rivers: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The water monitoring sections, each snapped onto its river."""
    course = dict(zip(rivers["name"], rivers.geometry, strict=True))
    rows = []
    for i, (river, name, wq, sampled, pt) in enumerate(SECTIONS, 1):
        on = course[river].interpolate(course[river].project(Point(m(*pt))))
        rows.append(
            {"mon_id": f"S{i:02d}", "name": name, "river": river, "wq_class": wq, "sampled": sampled, "geometry": on}
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=METRIC)


# --------------------------------------------------------------------------- key areas

_SHOPPING = "突出以重庆路商圈、大马路老商业街区及5家商业综合体项目为载体,集聚时尚品牌,发展中高端消费"
_SHOWCASE = "围绕重庆路、东大桥、幸福街等区域,强力纠正占道经营、私搭滥建、乱堆乱卸等违规行为,打造极具特色的精品示范区域"
_CULTURE = "以孔子文化园、道台府衙为载体,挖掘文化资源,完善文化创意、休闲旅游和博览演艺等新兴业态"

#: (name, kind, plan sentence, centre lon/lat, width m, height m, angle)
AREAS: list[tuple[str, str, str, tuple[float, float], float, float, float]] = [
    (
        "八一片区滨水空间",
        "waterfront",
        "立足打造临水经济带,加快八一片区滨水空间深度规划设计、现实成果转化,适度推进产业项目填充落位",
        (125.3930, 43.8210),
        1400,
        900,
        30,
    ),
    (
        "人民大街南段金融小镇",
        "finance",
        "立足金融产业发展态势,谋划启动人民大街南段金融小镇规划选址论证",
        (125.3420, 43.8080),
        1100,
        1600,
        0,
    ),
    (
        "“四塔”地标区域",
        "landmark",
        "通盘统筹推进“四塔”地标区域征收难点破解、发展空间释放、产业项目连片发展等事关全局性工作",
        (125.3420, 43.7880),
        800,
        700,
        0,
    ),
    ("重庆路商圈", "commercial", _SHOPPING, (125.3300, 43.8960), 700, 260, 8),
    ("大马路老商业街区", "commercial", _SHOPPING, (125.3435, 43.9000), 180, 800, -15),
    ("东大桥区域", "showcase", _SHOWCASE, (125.3520, 43.9080), 300, 260, 0),
    ("幸福街区域", "showcase", _SHOWCASE, (125.3360, 43.8725), 200, 800, 5),
    ("孔子文化园", "culture", _CULTURE, (125.3440, 43.8930), 420, 320, 0),
    ("道台府衙", "culture", _CULTURE, (125.3490, 43.8975), 200, 160, 0),
    (
        "滨河东单元",
        "reserve",
        "积极与城投集团紧密对接,共同谋划滨河东单元释放土地产业发展规划,控制住宅配建比例",
        (125.4120, 43.7950),
        1500,
        1800,
        0,
    ),
    (
        "绕城以南区域",
        "reserve",
        "立足新城扩容蓄力,持续跟踪推进绕城高速以南区域总体规划",
        (125.4300, 43.7150),
        5000,
        3000,
        0,
    ),
]


def build_areas() -> gpd.GeoDataFrame:
    """The key areas the plan names, with the sentence each comes from."""
    rows = [
        {"area_id": f"A{i:02d}", "name": name, "kind": kind, "quote": quote, "geometry": rect(*centre, w, h, a)}
        for i, (name, kind, quote, centre, w, h, a) in enumerate(AREAS, 1)
    ]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=METRIC)


# --------------------------------------------------------------------------- output


def build_layers() -> dict[str, gpd.GeoDataFrame]:
    """All nine layers in EPSG:4326, checked against the outline."""
    outline = gpd.read_file(OUTLINE_FILE).to_crs(METRIC).geometry.union_all()
    districts = build_districts(outline)
    rivers = build_rivers(outline)
    layers = {
        "districts": districts,
        "areas": build_areas(),
        "greenbelt": build_greenbelt(),
        "parcels": build_parcels(),
        "roads": build_roads(),
        "pipes": build_pipes(),
        "facilities": build_facilities(districts),
        "rivers": rivers,
        "monitoring_points": build_monitoring_points(rivers),
    }
    for name, gdf in layers.items():
        outside = gdf[~gdf.geometry.within(outline.buffer(1.0))]
        if not outside.empty:
            raise SystemExit(f"{name}: features outside the outline: {list(outside.iloc[:, 0])}")
    return {name: gdf.to_crs(4326) for name, gdf in layers.items()}


def dataset_info() -> pd.DataFrame:
    """The metadata table written beside the layers."""
    return pd.DataFrame(
        {
            "key": [
                "title",
                "title_zh",
                "title_en",
                "subtitle_zh",
                "subtitle_en",
                "targets",
                "schematic",
                "note",
                "outline",
                "figures",
                "crs",
                "built_by",
            ],
            "value": [
                "南关城市更新一张图 示例数据 (Nanguan urban-renewal map, sample data)",
                "南关城市更新一张图",
                "Nanguan urban-renewal map",
                "长春市南关区 2020 年城市更新工作计划",
                "Nanguan District, Changchun — 2020 renewal work plan",
                (HERE / "targets.toml").read_text(encoding="utf-8"),
                "true",
                SCHEMATIC_NOTE,
                OUTLINE_CREDIT,
                "长春日报 2020-01-08《南关加快推动经济社会高质量发展》（南关区2020年工作计划）",
                "EPSG:4326 (WGS 84); measured in EPSG:4551",
                "data/build_sample.py",
            ],
        }
    )


def write(layers: dict[str, gpd.GeoDataFrame], out: Path) -> None:
    """Write the layers and the metadata table to a new GeoPackage at ``out``."""
    tmp = out.with_name(f".{out.stem}.tmp.gpkg")
    tmp.unlink(missing_ok=True)
    for name, gdf in layers.items():
        gdf.to_file(tmp, layer=name, driver="GPKG", layer_options={"DESCRIPTION": SCHEMATIC_NOTE})
    pyogrio.write_dataframe(dataset_info(), tmp, layer="dataset_info")
    tmp.replace(out)


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else HERE / "nanguan.gpkg"
    write(build_layers(), out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
