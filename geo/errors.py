"""The exceptions of the renewal map: one root, a few children, each with a code.

An error carries a ``code`` and its ``params`` (the file, the value, the limit …), not a
sentence: :func:`message` renders it in Chinese or English from :data:`MESSAGES`, so the
Chinese page never shows an English sentence. ``str(error)`` is the English rendering,
which the command line prints as one line.

Parameters named ``file`` hold the path the core was given. Whoever shows the message
may name the file differently (the app names an upload by the name the user gave it,
never by its server path): see ``names`` in :func:`message`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ENGLISH_ONLY",
    "MESSAGES",
    "NOUNS",
    "PROBLEMS",
    "AreaError",
    "BalanceError",
    "CRSError",
    "CoverageError",
    "Problem",
    "RenewalError",
    "SignInError",
    "SourceError",
    "ValidationError",
    "message",
    "problem_text",
]

#: code -> (English, Chinese) template, filled with ``str.format`` from the error's params.
MESSAGES: dict[str, tuple[str, str]] = {
    # sources and files written
    "source.url": (
        "{file}: not a GeoPackage path; the only URLs read are postgresql:// ones",
        "{file}：不是 GeoPackage 路径；只接受 postgresql:// 数据库地址",
    ),
    "source.missing": (
        "{file}: no such file; pass the path of a GeoPackage (.gpkg)",
        "{file}：文件不存在，请给出 GeoPackage（.gpkg）文件",
    ),
    "source.folder": (
        "{file}: is a folder; pass the path of a GeoPackage (.gpkg) file",
        "{file}：这是文件夹，请给出 GeoPackage（.gpkg）文件",
    ),
    "source.not_gpkg": (
        "{file}: not a GeoPackage (not an SQLite file); export the data as .gpkg",
        "{file}：不是 GeoPackage 文件（不是 SQLite 数据库），请把数据导出为 .gpkg",
    ),
    "source.unopenable": (
        "{file}: cannot be opened as a GeoPackage ({reason})",
        "{file}：无法作为 GeoPackage 打开，文件可能已损坏",
    ),
    "source.damaged": (
        "{file}: the GeoPackage is damaged ({reason}); its figures would be wrong, so it is not read: "
        "restore it from a backup or export it again",
        "{file}：GeoPackage 文件已损坏，读出的数字会有误，因此不予读取；请从备份恢复或重新导出",
    ),
    "source.layer_unreadable": (
        "{file}: cannot read layer {layer!r} ({reason})",
        "{file}：无法读取图层“{layer}”，文件可能已损坏",
    ),
    "source.layer_unwritable": (
        "{file}: cannot write layer {layer!r} ({reason})",
        "{file}：无法写入图层“{layer}”，磁盘可能已满或文件只读",
    ),
    "source.no_catalogue_layer": (
        "{file}: holds none of the catalogue layers ({layers})",
        "{file}：不含任何目录图层（{layers}）",
    ),
    "source.no_layer": ("{file}: has no layer {layer!r}", "{file}：没有图层“{layer}”"),
    "source.into_missing": (
        "{file}: no such GeoPackage; pass --create to make a new one",
        "{file}：目标 GeoPackage 不存在；要新建请加 --create",
    ),
    "out.no_folder": (
        "{file}: folder {folder} does not exist; create it or choose another --out",
        "{file}：文件夹 {folder} 不存在，请先创建或换一个输出位置",
    ),
    "out.unwritable": (
        "{file}: cannot write ({reason}); choose another --out",
        "{file}：无法写入，请换一个输出位置",
    ),
    # the shared database: the tool writes only what it wrote
    "store.not_ours": (
        "{url}: schema {schema!r} was not written by this tool (it holds {tables}); nothing was changed: "
        "publish into a schema of its own with --schema NAME (for example {suggestion})",
        "{url}：模式“{schema}”不是本工具写入的（其中有 {tables}），未作任何修改；请用 --schema 名称 发布到单独的模式"
        "（例如 {suggestion}）",
    ),
    "store.table_not_ours": (
        "{url}: table {table!r} in schema {schema!r} was not written by this tool; nothing was changed: "
        "publish into another schema with --schema NAME",
        "{url}：模式“{schema}”中的表“{table}”不是本工具写入的，未作任何修改；请用 --schema 名称 发布到其他模式",
    ),
    "store.depends": (
        "{url}: another object in the database depends on a table this would replace ({reason}); nothing was "
        "changed: ask its owner to drop it, or publish into another schema with --schema NAME",
        "{url}：数据库中有其他对象依赖将被替换的表（{reason}），未作任何修改；"
        "请联系其所有者删除，或用 --schema 发布到其他模式",
    ),
    "disk.full": (
        "the disk is full: nothing was written and every file is as it was; free some space and try again",
        "磁盘已满：未写入任何内容，原有文件保持不变；请腾出空间后重试",
    ),
    "store.disk_full": (
        "{url}: the database server's disk is full; nothing was changed: ask its administrator for space",
        "{url}：数据库服务器磁盘已满，未作任何修改；请联系数据库管理员扩充空间",
    ),
    "store.needs_drivers": (
        "PostGIS sources need SQLAlchemy and psycopg: pip install 'sqlalchemy>=2' 'psycopg[binary]' ({module})",
        "PostGIS 数据源需要安装 SQLAlchemy 和 psycopg"
        "（命令 pip install 'sqlalchemy>=2' 'psycopg[binary]'，缺少 {module}）",
    ),
    "store.bad_name": (
        "{what} {name!r} is not allowed: use lower-case letters, digits and _ (at most 63, not starting with a digit)",
        "{what}名称“{name}”不允许：只能用小写字母、数字和 _（最多 63 个字符，不以数字开头）",
    ),
    "store.bad_url": ("{url}: not a database URL ({reason})", "{url}：不是有效的数据库地址"),
    "store.no_database": (
        "{url}: the URL names no database (postgresql://user@host:port/DATABASE)",
        "{url}：地址中没有数据库名（postgresql://用户@主机:端口/数据库）",
    ),
    "store.auth": ("{url}: {reason}; check the user and password", "{url}：用户名或密码不正确，请检查"),
    "store.unreachable": (
        "{url}: {reason}; is the database server running and reachable?",
        "{url}：无法连接数据库服务器，请确认服务器已启动且网络可达",
    ),
    "store.denied": (
        "{url}: {reason}; this database role may not make that change: editing needs UPDATE on the layer tables and "
        "INSERT on change_history (see Roles in the README)",
        "{url}：当前数据库角色无权进行此修改：编辑需要图层表的 UPDATE 权限和 change_history 表的 INSERT 权限"
        "（见 README 的 Roles 一节）",
    ),
    "store.lost": ("{url}: the connection was lost ({reason}); try again", "{url}：与数据库的连接已断开，请重试"),
    "store.fault": ("{url}: {reason}", "{url}：数据库出错（{reason}）"),
    "store.failed": ("{fault}; {doing} failed, nothing was changed", "{fault}；{doing}失败，未作任何修改"),
    "store.no_schema": (
        "{url}: schema {schema!r} does not exist; publish the layers into it with python -m geo publish",
        "{url}：模式“{schema}”不存在，请先用 python -m geo publish 发布图层",
    ),
    "store.schema_exists": (
        "{url}: schema {schema!r} exists; pass --replace to replace it",
        "{url}：模式“{schema}”已存在，要替换请加 --replace",
    ),
    "store.schema_empty": (
        "{url}: schema {schema!r} holds no published layers; publish a source into it first",
        "{url}：模式“{schema}”中没有已发布的图层，请先发布数据源",
    ),
    "store.no_geometry": (
        "{url}: table {table!r} has no {column!r} geometry column",
        "{url}：表“{table}”没有 {column} 几何列",
    ),
    "store.no_srid": (
        "{url}: table {table!r} has no typed {column!r} column with an SRID",
        "{url}：表“{table}”没有带 SRID 的 {column} 几何列",
    ),
    "store.no_epsg": (
        "{layer}: its CRS has no EPSG code; PostGIS columns are typed by EPSG code",
        "{layer}：坐标系没有 EPSG 代码，而 PostGIS 的几何列按 EPSG 代码定义类型",
    ),
    "store.no_row": ("the database returned no row where one was expected", "数据库没有返回应有的结果行"),
    "pull.exists": ("{file} exists; pass --replace to replace it", "{file} 已存在，要替换请加 --replace"),
    "pull.not_gpkg": (
        "{file} exists and is not a GeoPackage; pull will not replace it: choose another file",
        "{file} 已存在且不是 GeoPackage，不会替换它，请换一个文件",
    ),
    # statistics and plan targets
    "stats.no_units": (
        "the source has no {layer!r} layer; statistics need the sub-district boundaries",
        "数据源没有“{layer}”图层，分街道统计需要街道边界",
    ),
    "coverage.overlap": (
        "districts {a} and {b} overlap by {area_m2:,.2f} m²",
        "街道 {a} 与 {b} 重叠 {area_m2:,.2f} 平方米",
    ),
    "coverage.gap": (
        "a gap of {area_m2:,.2f} m² between districts {codes} counts as OUTSIDE",
        "街道 {codes} 之间有 {area_m2:,.2f} 平方米的空隙，计入区外",
    ),
    "crs.pg_metric": (
        "{value!r}: statistics in PostGIS need a metric CRS with an EPSG code, such as EPSG:4551",
        "“{value}”：在 PostGIS 中统计需要带 EPSG 代码的米制坐标系，例如 EPSG:4551",
    ),
    "targets.no_field": (
        "target {target!r}: layer {layer!r} has no field {field!r}",
        "指标“{target}”：图层“{layer}”没有字段“{field}”",
    ),
    "targets.db_measure": (
        "target {target!r}: unknown measure {measure!r}; use count, km, ha or sum:<field>",
        "指标“{target}”：未知的度量“{measure}”，可用 count、km、ha 或 sum:<字段>",
    ),
    "stats.unbalanced": (
        "internal error in column {column}: the sub-districts and OUTSIDE add up to {got!r} but the layer "
        "holds {total!r}; the table is withheld rather than shown wrong (please report the data)",
        "程序内部错误（{column} 列）：各街道与区外合计 {got!r}，而图层总计 {total!r}；为免显示错误，统计表不予显示"
        "（请报告所用数据）",
    ),
    "targets.none": (
        "{file}: names no plan targets (no 'targets' in its dataset_info, no .targets.toml beside it); "
        "pass --targets FILE",
        "{file}：数据源没有计划指标（dataset_info 中没有 targets，旁边也没有 .targets.toml），请用 --targets 指定",
    ),
    "targets.unreadable": (
        "{file}: cannot read the targets file ({reason})",
        "{file}：无法读取计划指标文件",
    ),
    "targets.not_toml": ("{file}: not valid TOML ({reason})", "{file}：不是有效的 TOML 文件"),
    "targets.malformed": ("{file}: target #{index} is malformed ({reason})", "{file}：第 {index} 个指标格式有误"),
    "targets.unknown_layer": (
        "{file}: target {target!r} names unknown layer {layer!r}",
        "{file}：指标“{target}”引用了未知图层“{layer}”",
    ),
    "targets.unknown_measure": (
        "{file}: target {target!r}: unknown measure {measure!r}; use count, km, ha, sum:<field> or pct:<ratio>",
        "{file}：指标“{target}”：未知的度量“{measure}”，可用 count、km、ha、sum:<字段> 或 pct:<比率>",
    ),
    "targets.unknown_ratio": (
        "{file}: target {target!r}: layer {layer!r} has no ratio {measure!r} (it has: {known})",
        "{file}：指标“{target}”：图层“{layer}”没有比率“{measure}”（可用：{known}）",
    ),
    "targets.unknown_field": (
        "{file}: target {target!r}: {kind} names unknown field {field!r}",
        "{file}：指标“{target}”的 {kind} 引用了未知字段“{field}”",
    ),
    "targets.unknown_code": (
        "{file}: target {target!r}: {kind} {field} = {value!r} is not one of {codes}",
        "{file}：指标“{target}”的 {kind} {field} = “{value}”不是允许的取值（{codes}）",
    ),
    # exports
    "export.unencodable": (
        "{layer}.{column}: {value!r} has {char!r}, which cannot be written in {encoding}; export in UTF-8",
        "{layer}.{column}：“{value}”中的“{char}”无法用 {encoding} 写出，请用 UTF-8 导出",
    ),
    "export.text_too_long": (
        "{layer}.{column}: a value of {size} bytes (“{start}…”) does not fit a Shapefile's 254-byte text field; "
        "export as GeoPackage or GeoJSON",
        "{layer}.{column}：取值（“{start}…”）有 {size} 字节，超出 Shapefile 文字字段的 254 字节，"
        "请导出为 GeoPackage 或 GeoJSON",
    ),
    "export.labels_too_long": (
        "{layer}: Chinese field names {fields} do not fit a Shapefile's 10 bytes in {encoding}; export in GBK",
        "{layer}：中文字段名 {fields} 用 {encoding} 编码超出 Shapefile 字段名的 10 字节，请选择 GBK 编码",
    ),
    "export.encoding": (
        "unsupported Shapefile encoding {encoding!r}; use {allowed}",
        "不支持的 Shapefile 编码 {encoding}，可选 {allowed}",
    ),
    "export.needs_xlsxwriter": (
        "XLSX export needs XlsxWriter: pip install xlsxwriter",
        "导出 XLSX 需要安装 XlsxWriter（命令 `pip install xlsxwriter`）",
    ),
    "export.one_layer": ("{format} holds one layer: name it with --layer", "{format} 只能容纳一个图层，请指定图层"),
    "export.unknown_format": ("unknown format {format!r}; use {allowed}", "未知格式 {format}，可选 {allowed}"),
    "export.table_format": (
        "--layer {layer} is a table: use --format csv or xlsx",
        "{layer} 是表格，请用 csv 或 xlsx 格式导出",
    ),
    # coordinate reference systems
    "crs.outside_zones": (
        "longitude {lon:.3f} is outside China's Gauss-Kruger zones (73.5E-136.5E); pass a metric CRS with --crs",
        "经度 {lon:.3f} 不在中国的高斯-克吕格分带（73.5°E–136.5°E）内，请指定米制坐标系（--crs）",
    ),
    "crs.unknown": (
        "unknown CRS {value!r}; use an EPSG code such as EPSG:4551",
        "未知坐标系“{value}”，请用 EPSG 代码，例如 EPSG:4551",
    ),
    "crs.missing": (
        "{what} has no CRS; declare one (for example EPSG:4326) before measuring",
        "{what} 没有坐标系，请先声明（例如 EPSG:4326）再量算",
    ),
    "crs.degrees": (
        "{crs} is in degrees; measure in a projected CRS such as EPSG:4551",
        "{crs} 以度为单位，请用投影坐标系量算，例如 EPSG:4551",
    ),
    "crs.layer_missing": (
        "layer {layer!r} has no CRS; declare one (for example EPSG:4326) before measuring",
        "图层“{layer}”没有坐标系，请先声明（例如 EPSG:4326）再量算",
    ),
    "crs.not_metres": ("{crs} is in {unit}, not metres", "{crs} 的单位是 {unit}，不是米"),
    "crs.distorts": (
        "{crs} distorts lengths and areas; measure in a Gauss-Kruger CRS such as EPSG:4551",
        "{crs} 会使长度和面积变形，请用高斯-克吕格坐标系量算，例如 EPSG:4551",
    ),
    "crs.mixed": (
        "layer {layer!r} is in {crs} but layer {first!r} is in {first_crs}; "
        "bring all layers of a source to one CRS (an import into the source reprojects for you)",
        "图层“{layer}”的坐标系是 {crs}，而图层“{first}”是 {first_crs}；请把数据源的所有图层统一到一个坐标系"
        "（导入数据源时会自动转换）",
    ),
    "crs.no_transformation": (
        "no transformation from {source} to {target}: {reason}",
        "没有从 {source} 到 {target} 的坐标转换",
    ),
    "crs.transform_failed": (
        "cannot transform from {source} to {target}: {reason}",
        "无法从 {source} 转换到 {target}，请检查数据的坐标系",
    ),
    "crs.needs_lonlat": (
        "GCJ-02/BD-09 conversion needs lon/lat data (EPSG:4326 or EPSG:4490)",
        "GCJ-02/BD-09 转换只适用于经纬度数据（EPSG:4326 或 EPSG:4490）",
    ),
    "crs.unknown_pseudo": (
        "cannot convert {source} to {target}; use wgs84, gcj02 or bd09",
        "无法从 {source} 转换到 {target}，可用 wgs84、gcj02 或 bd09",
    ),
    # reading what the bureaus send
    "import.no_file": ("{file}: no such file", "{file}：文件不存在"),
    "import.folder": ("{file}: is a folder; pass a file", "{file}：这是文件夹，请给出文件"),
    "import.unknown_format": (
        "{file}: unknown format {ext}; use {allowed}",
        "{file}：不支持的格式 {ext}，可用 {allowed}",
    ),
    "import.empty": ("{file}: the file is empty", "{file}：文件是空的"),
    "import.no_features": ("{file}: holds no features", "{file}：不含任何要素"),
    "import.unreadable": (
        "{file}: cannot be read as {format} ({reason})",
        "{file}：无法按 {ext} 格式读取，文件可能已损坏或不完整",
    ),
    "import.not_encoding": (
        "{file}: the text is not {encoding}; pass --encoding GBK",
        "{file}：文字不是 {encoding} 编码，请选择 GBK 编码（命令行 --encoding GBK）",
    ),
    "import.dbf_not_utf8": (
        "{file}: the attribute text is not UTF-8 and there is no .cpg to say what it is; "
        "pass --encoding GBK (or choose GBK in the app) for files from older ArcGIS/SuperMap",
        "{file}：属性文字不是 UTF-8 编码，也没有 .cpg 文件说明编码；旧版 ArcGIS/SuperMap 导出的文件"
        "请选择 GBK 编码（命令行 --encoding GBK）",
    ),
    "import.bad_zip": ("{file}: not a valid zip archive ({reason})", "{file}：不是有效的 zip 压缩包"),
    "import.zip_slip": (
        "{file}: the archive member {member!r} points outside the archive; refusing to extract it",
        "{file}：压缩包中的“{member}”指向包外的路径，拒绝解压",
    ),
    "import.zip_too_big": (
        "{file}: the archive unpacks to {size_mb:,.0f} MB, more than the {limit_mb:,g} MB limit "
        "(NANGUAN_MAX_UNZIPPED_MB); split it or raise the limit",
        "{file}：压缩包解压后有 {size_mb:,.0f} MB，超过 {limit_mb:,g} MB 的上限"
        "（NANGUAN_MAX_UNZIPPED_MB），请拆分文件或提高上限",
    ),
    "import.zip_ratio": (
        "{file}: the archive would expand {ratio:,.0f} times (to {size_mb:,.1f} MB), more than the {limit:,.0f} times "
        "allowed (NANGUAN_MAX_ZIP_RATIO); it looks like a zip bomb and is not extracted",
        "{file}：压缩包解压后将膨胀 {ratio:,.0f} 倍（达 {size_mb:,.1f} MB），超过允许的 {limit:,.0f} 倍"
        "（NANGUAN_MAX_ZIP_RATIO），疑似压缩炸弹，不予解压",
    ),
    "import.too_big": (
        "{file}: the file is {size_mb:,.1f} MB, more than the {limit_mb:,g} MB limit (NANGUAN_MAX_UPLOAD_MB); "
        "split it or raise the limit",
        "{file}：文件有 {size_mb:,.1f} MB，超过 {limit_mb:,g} MB 的上限（NANGUAN_MAX_UPLOAD_MB），请拆分文件或提高上限",
    ),
    "import.too_many_features": (
        "{file}: holds more than {limit:,} features, the limit (NANGUAN_MAX_FEATURES); split it or raise the limit",
        "{file}：要素超过 {limit:,} 个的上限（NANGUAN_MAX_FEATURES），请拆分文件或提高上限",
    ),
    "import.too_many_vertices": (
        "{file}: feature {feature} has {count:,} vertices, more than the {limit:,} limit (NANGUAN_MAX_VERTICES); "
        "simplify it or raise the limit",
        "{file}：要素 {feature} 有 {count:,} 个顶点，超过 {limit:,} 个的上限（NANGUAN_MAX_VERTICES），"
        "请先简化或提高上限",
    ),
    "import.zip_no_shp": (
        "{file}: the archive has no .shp (it holds {members})",
        "{file}：压缩包里没有 .shp 文件（包内有：{members}）",
    ),
    "import.zip_no_named_shp": (
        "{file}: the archive has no .shp named {table} (it holds {members})",
        "{file}：压缩包里没有名为 {table} 的 .shp 文件（包内有：{members}）",
    ),
    "import.zip_many_shp": (
        "{file}: the archive holds several Shapefiles ({names}); choose one with --table",
        "{file}：压缩包里有多个 Shapefile（{names}），请用 --table 指定一个",
    ),
    "import.shp_part_missing": (
        "{file}: {shp}.shp comes without its {ext} file; zip the .shp, .shx, .dbf and .prj together",
        "{file}：{shp}.shp 缺少配套的 {ext} 文件，请把 .shp、.shx、.dbf、.prj 一起打包",
    ),
    "import.csv_unreadable": ("{file}: not a readable CSV ({reason})", "{file}：无法按 CSV 读取"),
    "import.not_wkt": (
        "{file}: column {column!r} holds text that is not WKT ({reason})",
        "{file}：“{column}”列含有不是 WKT 的文字",
    ),
    "import.no_geometry_column": (
        "{file}: no geometry column; give a WKT column (wkt) or lon and lat columns (the file has: {columns})",
        "{file}：没有几何列，请提供 WKT 列（wkt）或经度、纬度两列（文件中的列：{columns}）",
    ),
    "import.not_numbers": (
        "{file}: columns {lon!r}/{lat!r} hold values that are not numbers",
        "{file}：“{lon}”/“{lat}”列含有不是数字的值",
    ),
    "import.no_table": ("{file}: no table {table!r}; it has {tables}", "{file}：没有表“{table}”，其中的表有：{tables}"),
    "import.many_tables": (
        "{file}: holds several tables ({tables}); choose one with --table",
        "{file}：含有多个表（{tables}），请用 --table 指定一个",
    ),
    "import.no_crs": (
        "{file}: declares no CRS; name it with --from-crs (EPSG:4326, EPSG:4490, EPSG:4551, gcj02 or bd09)",
        "{file}：文件没有声明坐标系，请指定（EPSG:4326、EPSG:4490、EPSG:4551、GCJ-02 或 BD-09）",
    ),
    "import.pseudo_projected": (
        "{file}: {name} coordinates are lon/lat, but the file declares {crs}",
        "{file}：{name} 坐标是经纬度，但文件声明的是 {crs}",
    ),
    "import.crs_conflict": (
        "{file}: the file declares {declared} but --from-crs says {named}; drop --from-crs or fix the file's .prj",
        "{file}：文件声明的坐标系是 {declared}，而指定的是 {named}；请改为“自动”或修正文件的 .prj",
    ),
    "import.not_finite": (
        "{file}: some coordinates are not numbers (NaN or infinite); fix those geometries and import again",
        "{file}：部分坐标不是有效数字（NaN 或无穷大），请修正这些几何后重新导入",
    ),
    "import.swapped": (
        "{file}: longitude and latitude look swapped (x {xmin:.3f}-{xmax:.3f} reads like a latitude in China); "
        "swap the columns or axes and import again",
        "{file}：经度和纬度似乎颠倒了（x 为 {xmin:.3f}–{xmax:.3f}，像是中国的纬度），请交换两列后重新导入",
    ),
    "import.not_degrees": (
        "{file}: coordinates reach ({xmin:,.0f}, {ymin:,.0f}) - ({xmax:,.0f}, {ymax:,.0f}), which are not degrees "
        "although {crs} is lon/lat; the data is probably projected: pass its CRS with --from-crs",
        "{file}：坐标达到 ({xmin:,.0f}, {ymin:,.0f}) – ({xmax:,.0f}, {ymax:,.0f})，不是度数，而 {crs} 是经纬度"
        "坐标系；数据应是投影坐标，请指定它的坐标系",
    ),
    "import.outside_china": (
        "{file}: lon/lat ({xmin:.3f}, {ymin:.3f}) - ({xmax:.3f}, {ymax:.3f}) lie outside China; "
        "check the CRS (--from-crs)",
        "{file}：经纬度 ({xmin:.3f}, {ymin:.3f}) – ({xmax:.3f}, {ymax:.3f}) 在中国境外，请检查坐标系",
    ),
    "import.degrees_as_metres": (
        "{file}: coordinates look like degrees but {crs} is projected in metres; "
        "pass --from-crs EPSG:4326 (or EPSG:4490)",
        "{file}：坐标像是经纬度，但 {crs} 是以米为单位的投影坐标系，请指定 EPSG:4326（或 EPSG:4490）",
    ),
    "import.projected_outside": (
        "{file}: in {crs} the data falls outside China; the CRS is probably wrong "
        "(a Gauss-Kruger zone with or without zone prefix, e.g. EPSG:4530 vs EPSG:4551?)",
        "{file}：按 {crs} 解读，数据落在中国境外；坐标系可能有误（高斯-克吕格坐标带号前缀的有无，"
        "如 EPSG:4530 与 EPSG:4551？）",
    ),
    "import.id_clash": (
        "{file}: ids already in {layer}: {ids}; replace the layer instead, or give the new features other ids",
        "{file}：编号已存在于“{layer}”：{ids}；请改为替换图层，或给新要素换编号",
    ),
    # files from outside: what they hold, how large they are and how they are named, checked before reading
    "import.not_format": (
        "{file}: is not a {format} file: it starts with {start}, but {expected}; export it again as {format}",
        "{file}：文件内容不是 {format} 格式（开头是 {start}），请重新导出为 {format} 文件",
    ),
    "import.feature_too_large": (
        "{file}: a feature is too large to read (over {size_mb:,} MB of GeoJSON, more than {limit:,} vertices "
        "take: NANGUAN_MAX_VERTICES); simplify it or raise the limit",
        "{file}：有要素过大（GeoJSON 文本超过 {size_mb:,} MB，超出 {limit:,} 个顶点的上限 NANGUAN_MAX_VERTICES），"
        "请先简化或提高上限",
    ),
    "import.bad_name": (
        "{file}: cannot be opened: {reason}; give the file a shorter name of ordinary characters",
        "{file}：无法打开（文件名过长或含有不允许的字符），请改用较短的普通文件名",
    ),
    "area.too_many_vertices": (
        "{file}: the area has {count:,} vertices, more than the {limit:,} limit (NANGUAN_MAX_VERTICES); "
        "simplify it or raise the limit",
        "{file}：范围有 {count:,} 个顶点，超过 {limit:,} 个的上限（NANGUAN_MAX_VERTICES），请先简化或提高上限",
    ),
    # areas to analyse (geo/impact.py)
    "area.not_geometry": (
        "{file}: is not a geometry; give a GeoJSON polygon, line or point, or WKT in WGS 84",
        "{file}：不是几何，请给出 GeoJSON 面、线或点，或 WGS 84 的 WKT",
    ),
    "area.bad_geojson": ("{file}: is not a valid GeoJSON geometry ({reason})", "{file}：不是有效的 GeoJSON 几何"),
    "area.empty_text": (
        "{file}: is empty; draw or give a polygon, a line or a point",
        "{file}：内容为空，请绘制或给出面、线或点",
    ),
    "area.not_json": ("{file}: is not valid JSON ({reason}, line {line})", "{file}：不是有效的 JSON（第 {line} 行）"),
    "area.not_wkt": (
        "{file}: is not a geometry; give a GeoJSON file or WKT in WGS 84 such as "
        "POLYGON ((125.33 43.85, 125.34 43.85, 125.34 43.86, 125.33 43.85))",
        "{file}：不是几何，请给出 GeoJSON 文件或 WGS 84 的 WKT，例如 "
        "POLYGON ((125.33 43.85, 125.34 43.85, 125.34 43.86, 125.33 43.85))",
    ),
    "area.no_layer": (
        "{ref}: the source has no {what_en} ({layer}); give another area",
        "{ref}：数据源中没有“{layer}”，请换一个范围",
    ),
    "area.no_feature": (
        "{ref}: {layer} has no feature with id {id!r} (it has {known}{more})",
        "{ref}：“{layer}”中没有编号为“{id}”的要素（已有：{known}{more}）",
    ),
    "area.no_file": (
        "{file}: no such file; give a GeoJSON file or WKT in WGS 84",
        "{file}：文件不存在，请给出 GeoJSON 文件或 WGS 84 的 WKT",
    ),
    "area.not_utf8": ("{file}: is not a UTF-8 GeoJSON file", "{file}：不是 UTF-8 编码的 GeoJSON 文件"),
    "area.bad_buffer": (
        "the buffer must be 0 or more metres, not {buffer_m}",
        "缓冲距离必须是 0 或更大的米数，而不是 {buffer_m}",
    ),
    "area.no_crs": ("the area has no CRS; give it in WGS 84 (lon/lat)", "范围没有坐标系，请用 WGS 84（经纬度）给出"),
    "area.empty": ("the area is empty; draw or give a polygon, a line or a point", "范围为空，请绘制或给出面、线或点"),
    "area.invalid": (
        "the area is not a valid geometry ({reason}); redraw it without crossing edges",
        "范围不是有效的几何，请重新绘制，边不要交叉",
    ),
    "area.not_lonlat": (
        "the area's coordinates are not longitude/latitude in WGS 84 (they look like metres)",
        "范围的坐标不是 WGS 84 经纬度（看起来是以米为单位）",
    ),
    "area.needs_buffer": (
        "a line or a point has no area: give a buffer in metres (for example --buffer 40)",
        "线或点没有面积：请给出以米为单位的缓冲距离（例如 40 米，命令行 --buffer 40）",
    ),
    "area.no_extent": (
        "the area has no extent; draw a polygon with three distinct corners",
        "范围没有面积，请绘制至少有三个不同顶点的多边形",
    ),
    # edits and their history
    "edit.value_required": ("{layer} [{field}]: a value is required", "{layer} [{field}]：必须填写一个值"),
    "edit.not_number": ("{layer} [{field}]: {value!r} is not a number", "{layer} [{field}]：“{value}”不是数字"),
    "edit.not_whole": ("{layer} [{field}]: {value!r} is not a whole number", "{layer} [{field}]：“{value}”不是整数"),
    "edit.unknown_layer": ("unknown layer {layer!r}; layers: {layers}", "未知图层“{layer}”；图层有：{layers}"),
    "edit.no_author": ("say who makes the change (--by NAME)", "请写明修改人（--by 姓名）"),
    "edit.not_editable": (
        "{layer} has no editable field {field!r}; editable fields: {fields}",
        "“{layer}”没有可修改的字段“{field}”；可修改的字段：{fields}",
    ),
    "edit.no_ids": ("name at least one feature id", "请至少给出一个要素编号"),
    "edit.no_feature": ("{layer} has no feature {id!r}", "“{layer}”中没有要素“{id}”"),
    "edit.refused": ("refused, nothing changed: {first}{more_text}", "已拒绝，未作任何修改：{first}{more_text}"),
    "edit.no_change": ("{file}: no change #{change}", "{file}：没有第 {change} 号修改"),
    "edit.undo_import": (
        "change #{change} is an import; import the previous file again to undo it",
        "第 {change} 号修改是一次导入；要撤销，请重新导入之前的文件",
    ),
    "edit.not_pair": ("{pair!r} is not FIELD=VALUE", "“{pair}”不是 字段=值 的形式"),
    "edit.conflict": (
        "{layer} {id} [{field}] was changed to {value!r} after you opened it; reload and make your change again",
        "{layer} {id} [{field}] 在您打开后已被改为“{value}”，请重新载入后再修改",
    ),
    "edit.conflict_by": (
        "{layer} {id} [{field}] was changed by {by} at {at} to {value!r} after you opened it; "
        "reload and make your change again",
        "{layer} {id} [{field}] 在您打开后已被 {by} 于 {at} 改为“{value}”，请重新载入后再修改",
    ),
    "edit.recorded": (
        "recorded #{change}: {layer} {id} [{field}] {old!r} -> {new!r} by {by} on {date}",
        "已记录第 {change} 号修改：{layer} {id} [{field}] “{old}” → “{new}”，修改人 {by}，日期 {date}",
    ),
    "edit.nothing": ("nothing changed: the values were already so", "未作任何修改：取值本来就是这样"),
    "history.none": ("no changes recorded", "没有修改记录"),
    "date.out_of_span": (
        "{what}: the date {value} lies outside {first} … {last}; a mistyped year? "
        "Give the day it happened (YYYY-MM-DD), or widen NANGUAN_DATE_MIN / NANGUAN_DATE_MAX",
        "{what}：日期 {value} 不在 {first} 至 {last} 之间，年份是否写错？请填写实际发生的日期（YYYY-MM-DD），"
        "或调整 NANGUAN_DATE_MIN / NANGUAN_DATE_MAX",
    ),
    "history.bad_date": (
        "{file}: change #{change} ({layer} {id}) is dated {value!r}, not a date within {first} … {last}; "
        "its history is not used: correct that change's date",
        "{file}：第 {change} 号修改（{layer} {id}）的日期“{value}”无效或不在 {first} 至 {last} 之间，"
        "修改记录不予使用，请更正该条日期",
    ),
    "history.unreadable": (
        "{file}: cannot read the change history ({reason})",
        "{file}：无法读取修改记录",
    ),
    # signing in to edit (geo/auth.py): one line each, telling the editor what to do next
    "auth.failed": ("wrong user name or password", "用户名或密码不正确"),
    "auth.throttled": (
        "too many failed sign-ins: try again in {seconds} s",
        "登录失败次数过多，请在 {seconds} 秒后再试",
    ),
    "auth.header_untrusted": (
        "the {header} header came from {address}, which is not a trusted proxy (NANGUAN_TRUSTED_PROXIES): "
        "it is ignored",
        "请求头 {header} 来自 {address}，不是受信任的代理（NANGUAN_TRUSTED_PROXIES），已忽略",
    ),
    "auth.header_repeated": (
        "the {header} header came {count} times or with several names: it is ignored",
        "请求头 {header} 出现了 {count} 次或含有多个用户名，已忽略",
    ),
    "auth.moved": (
        "signed out: this session is now used from another browser or address; sign in again",
        "已退出登录：本会话已在另一个浏览器或地址上使用，请重新登录",
    ),
    "auth.expired": ("signed out after {hours:g} h; sign in again", "登录已超过 {hours:g} 小时，已退出，请重新登录"),
    "auth.no_password": (
        "type the password on standard input (it is not echoed in the file)",
        "请在标准输入中键入密码（密码不会写进文件）",
    ),
    # what the command line says: one line each, on stdout or stderr
    "cli.error": ("error: {text}", "错误：{text}"),
    "cli.warning": ("warning: {text}", "警告：{text}"),
    "cli.layer_warning": ("warning: {layer}: {text}", "警告：{layer}：{text}"),
    "cli.unexpected": ("error: {kind}: {text}", "意外错误：{kind}：{text}"),
    "cli.transform_failed": (
        "error: cannot transform the coordinates ({reason}); check the CRS of the data",
        "错误：无法转换坐标，请检查数据的坐标系",
    ),
    "cli.wrote": ("wrote {file}", "已写入 {file}"),
    "cli.conforms": ("ok: {file} conforms ({summary} features)", "通过：{file} 符合要求（{summary} 个要素）"),
    "cli.imported": (
        "imported {count} features into {target} as {layer}",
        "已把 {count} 个要素导入 {target}，作为“{layer}”图层",
    ),
    "cli.imported_repaired": (
        "imported {count} features into {target} as {layer}; repaired geometries: {ids}",
        "已把 {count} 个要素导入 {target}，作为“{layer}”图层；修复了几何：{ids}",
    ),
    "cli.published": ("published {layers} into {url}", "已发布 {layers} 到 {url}"),
    "cli.published_replaced": (
        "published {layers} into {url}; replaced {replaced}",
        "已发布 {layers} 到 {url}；替换了 {replaced}",
    ),
    "cli.pulled": ("pulled {layers} into {file}", "已把 {layers} 拉取到 {file}"),
    "cli.outside": (
        "the area lies outside all the data: it meets no sub-district and no feature; every figure is 0",
        "范围在所有数据之外：不与任何街道或要素相交，各项数字均为 0",
    ),
    "cli.replaces_layer": ("import replaces layer {layer} in {target}", "导入将替换 {target} 中的“{layer}”图层"),
    "cli.replaces_tables": (
        "publish replaces in {url}: {replaced}, with their history; other tables stay",
        "发布将替换 {url} 中的 {replaced}（连同修改记录），其他表保持不变",
    ),
    "cli.replaces_file": ("pull replaces {file}", "拉取将替换 {file}"),
    "cli.ask": ("continue? [y/N] ", "是否继续？[y/N] "),
    "cli.cancelled": ("cancelled: nothing was changed", "已取消：未作任何修改"),
    # validation
    "validation.problems": ("{count} problem{plural} found: {shown}{more}", "发现 {count} 个问题：{shown}{more}"),
    "validation.file_problems": (
        "{file}: {count} problem{plural} found: {shown}{more}",
        "{file}：发现 {count} 个问题：{shown}{more}",
    ),
}

#: Parameters only the English templates name: texts in English from elsewhere (a driver's,
#: GEOS's or GDAL's reason, an English noun), which the Chinese sentence does without.
ENGLISH_ONLY = frozenset({"reason", "expected", "what_en", "plural"})

#: Words the core passes as the ``what``, ``doing`` or ``file`` of a message: English -> Chinese.
NOUNS: dict[str, str] = {
    "the area": "范围",
    "the WKT area": "WKT 范围",
    "the data": "数据",
    "the layer": "图层",
    "layer": "图层",
    "schema": "模式",
    "publish": "发布",
    "import": "导入",
}
_NOUN_KEYS = ("what", "doing", "file")
#: How an error made with a sentence rather than a code is shown: as written, in English.
_AS_WRITTEN = ("{text}", "{text}")

#: Problems of one feature or layer: code -> (English, Chinese).
PROBLEMS: dict[str, tuple[str, str]] = {
    "missing_value": ("required value is missing", "必填值缺失"),
    "not_number": ("{value!r} is not a number", "“{value}”不是数字"),
    "not_whole": ("{value!r} is not a whole number", "“{value}”不是整数"),
    "below_minimum": ("{value!r} is below the minimum {minimum:g}", "“{value}”小于最小值 {minimum:g}"),
    "not_date": ("{value!r} is not a date (YYYY-MM-DD)", "“{value}”不是日期（应为 YYYY-MM-DD）"),
    "not_allowed": (
        "{value!r} is not one of {codes} (or their Chinese names)",
        "“{value}”不是允许的取值（{labels}）",
    ),
    "no_crs": ("has no CRS; name one (for example EPSG:4326)", "没有坐标系，请指定（例如 EPSG:4326）"),
    "empty_geometry": ("geometry is empty", "几何为空"),
    "wrong_geometry": ("is a {found}; this layer takes {allowed}", "几何是{found}，本图层只接受{allowed}"),
    "invalid_geometry": ("invalid geometry: {reason}", "几何无效：{reason}"),
    "field_missing": ("required field is missing", "缺少必填字段"),
    "duplicate_id": ("duplicate id", "编号重复"),
    "above_limit": (
        "{field} ({value:g}) exceeds {limit} ({limit_value:g})",
        "{field}（{value:g}）超过{limit}（{limit_value:g}）",
    ),
    "no_geometry_column": ("table has no geometry column", "表中没有几何列"),
    "overlap": (
        "districts {a} and {b} overlap by {area_m2:,.2f} m² (more than the {tolerance_m2:g} m² tolerated)",
        "街道 {a} 与 {b} 重叠 {area_m2:,.2f} 平方米（超过允许的 {tolerance_m2:g} 平方米）",
    ),
    "no_column": (
        "no column for it (tried {tried}); the file has: {columns}",
        "文件中没有对应的列（尝试了 {tried}）；文件中的列：{columns}",
    ),
}

_GEOMETRY_ZH = {
    "Point": "点",
    "MultiPoint": "多点",
    "LineString": "线",
    "MultiLineString": "多线",
    "Polygon": "面",
    "MultiPolygon": "多面",
    "GeometryCollection": "几何集合",
    "LinearRing": "环",
}
#: GEOS's reasons for an invalid geometry, in Chinese (the location follows in brackets).
_REASONS_ZH = {
    "Self-intersection": "自相交",
    "Ring Self-intersection": "环自相交",
    "Too few points in geometry component": "点数过少",
    "Hole lies outside shell": "内环在外环之外",
    "Holes are nested": "内环嵌套",
    "Interior is disconnected": "内部不连通",
    "Nested shells": "外环嵌套",
    "Duplicate Rings": "环重复",
    "Invalid Coordinate": "坐标无效",
    "Ring is not closed": "环未闭合",
}


class RenewalError(Exception):
    """Root of every error this tool raises on purpose.

    Parameters
    ----------
    code : str
        A key of :data:`MESSAGES`.
    **params
        The values its templates name.
    """

    def __init__(self, code: str, /, **params: Any) -> None:
        if code not in MESSAGES:
            # A sentence rather than a code (tests/test_errors.py refuses them): shown as it is.
            code, params = "text", {"text": code}
        self.code = code
        self.params: dict[str, Any] = params
        super().__init__(message(self, "en"))


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a layer.

    Parameters
    ----------
    layer : str
        Layer name.
    feature : str or None
        Feature id (or row number as ``"#12"`` when the id itself is missing), None for a
        problem of the whole layer.
    field : str or None
        Field name, ``"geometry"``, or None.
    code : str
        A key of :data:`PROBLEMS`.
    params : mapping
        The values its templates name.
    """

    layer: str
    feature: str | None
    field: str | None
    code: str
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def message(self) -> str:
        """What is wrong, in English."""
        return _problem_template(self)[0].format(**_lists(_problem_params(self), "en"))

    def __str__(self) -> str:
        return problem_text(self, "en")


class ValidationError(RenewalError, ValueError):
    """Data that breaks its layer's contract; carries every problem found.

    Parameters
    ----------
    problems : sequence of Problem
        All problems, in the order found.
    file : str, optional
        The file they were found in, when one was read.
    """

    def __init__(self, problems: Sequence[Problem], *, file: str | None = None) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        if file is None:
            super().__init__("validation.problems", count=len(self.problems))
        else:
            super().__init__("validation.file_problems", count=len(self.problems), file=file)

    @classmethod
    def collect(cls, problems: Iterable[Problem]) -> None:
        """Raise with ``problems`` when there is at least one."""
        found = list(problems)
        if found:
            raise cls(found)


class CRSError(RenewalError, ValueError):
    """A missing, unknown or unsuitable coordinate reference system."""


class SourceError(RenewalError, OSError):
    """A data source that cannot be read or written (path, format, encoding)."""


class SignInError(RenewalError, PermissionError):
    """An editor not let in: a wrong password, too many failures, an identity that cannot be trusted."""


def _layer_label(layer: str, lang: str) -> str:
    from layers import CATALOGUE

    return CATALOGUE[layer].label(lang) if layer in CATALOGUE else layer


def _field_label(layer: str, name: str, lang: str) -> str:
    from layers import CATALOGUE

    if name == "geometry":
        return "几何" if lang == "zh" else name
    spec = CATALOGUE.get(layer)
    if spec is None or name not in spec.field_names:
        return name
    return spec.field(name).label(lang) if lang == "zh" else name


def _lists(params: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """Tuple and list parameters (field names, ids …) joined as ``lang`` lists them."""
    sep = "、" if lang == "zh" else ", "
    return {k: sep.join(map(str, v)) if isinstance(v, tuple | list) else v for k, v in params.items()}


def _zh_params(layer: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as the Chinese templates show them: geometry types, GEOS reasons and
    field names in Chinese."""
    out = _lists(params, "zh")
    for key in ("found", "allowed"):
        if key in out:
            out[key] = "或".join(_GEOMETRY_ZH.get(t, t) for t in str(out[key]).split(" or "))
    if "reason" in out:
        reason, _, where = str(out["reason"]).partition("[")
        out["reason"] = _REASONS_ZH.get(reason.strip(), "几何不合规") + (
            f"（位置 {where.rstrip(']')}）" if where else ""
        )
    for key in ("field", "limit"):
        if key in out:
            out[key] = _field_label(layer, str(out[key]), "zh")
    return out


def problem_text(problem: Problem, lang: str = "en") -> str:
    """``layer feature [field]: what is wrong`` in ``lang``, with the labels of that language."""
    zh = lang == "zh"
    where = _layer_label(problem.layer, lang) if zh else problem.layer
    if problem.feature is not None:
        where += f" {problem.feature}"
    if problem.field is not None:
        where += f" [{_field_label(problem.layer, problem.field, lang)}]"
    en, cn = _problem_template(problem)
    if zh:
        return f"{where}：{cn.format(**_zh_params(problem.layer, _problem_params(problem)))}"
    return f"{where}: {en.format(**_lists(_problem_params(problem), 'en'))}"


def _problem_template(problem: Problem) -> tuple[str, str]:
    return PROBLEMS.get(problem.code, ("{text}", "{text}"))


def _problem_params(problem: Problem) -> Mapping[str, Any]:
    """A problem's params; one made with a sentence instead of a code shows that sentence."""
    return problem.params if problem.code in PROBLEMS else {"text": problem.code}


def _shown(value: Any, names: Mapping[str, str]) -> Any:
    if not isinstance(value, str) or not names:
        return value
    if value in names:
        return names[value]
    for path, name in names.items():
        value = value.replace(path, name)
    return value


def message(
    error: RenewalError | str, lang: str = "en", *, names: Mapping[str, str] | None = None, **values: Any
) -> str:
    """``error`` as one line in ``lang`` (``"zh"`` or ``"en"``).

    Parameters
    ----------
    error : RenewalError or str
        The error, or a code of :data:`MESSAGES` (what the command line says) filled with
        ``values``: ``message("cli.wrote", "zh", file="stats.csv")``.
    lang : str
        ``"zh"`` or ``"en"``.
    names : mapping of str to str, optional
        How to name the paths the error holds: a server path (an upload's temporary copy)
        becomes the name the user knows it by. Paths inside longer texts are replaced too.
    **values
        The values the code's templates name, when ``error`` is a code.
    """
    if isinstance(error, str):
        code, raw = error, values
        en, zh = MESSAGES[code]
    else:
        code, raw = error.code, error.params
        en, zh = MESSAGES.get(code, _AS_WRITTEN)
    names = {str(k): v for k, v in (names or {}).items()}
    params = {k: _shown(v, names) for k, v in _lists(raw, lang).items()}
    for key, value in raw.items():
        if isinstance(value, Problem):
            params[key] = problem_text(value, lang)
        elif isinstance(value, RenewalError):
            params[key] = message(value, lang, names=names)
        elif lang == "zh" and key in _NOUN_KEYS and isinstance(value, str) and value in NOUNS:
            params[key] = NOUNS[value]
    if "more" in params and code == "edit.refused":
        n = int(params["more"])
        params["more_text"] = "" if n < 1 else (f"（另有 {n} 个）" if lang == "zh" else f" (and {n} more)")
    if "layer" in params and lang == "zh":
        params["layer"] = _layer_label(str(params["layer"]), "zh")
    if isinstance(error, ValidationError):
        shown = ("；" if lang == "zh" else "; ").join(problem_text(p, lang) for p in error.problems[:5])
        n = len(error.problems)
        more = "" if n <= 5 else (f"；另有 {n - 5} 个" if lang == "zh" else f"; and {n - 5} more")
        params.update(shown=_shown(shown, names), more=more, plural="" if n == 1 else "s")
    return (zh if lang == "zh" else en).format(**params)


class CoverageError(ValidationError):
    """Statistics units that overlap: a feature there would be counted twice."""


class BalanceError(RenewalError, ArithmeticError):
    """An internal error: the districts and OUTSIDE do not add up to the layer's total.

    Raised, never shown as a figure: a table whose rows do not add up is wrong.
    """


class AreaError(RenewalError, ValueError):
    """An area to analyse that is empty, invalid, not a geometry or has no extent."""
