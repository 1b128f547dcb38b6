"""The impact panel and the conflicts table through AppTest, with a shape as the map reports it."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from .common import ROOT
from .hostile import shown
from .test_impact import million_vertex_area

#: A rectangle over the south of the sample, as streamlit-folium reports a drawn shape.
DRAWN = {
    "type": "Feature",
    "properties": {},
    "geometry": {
        "type": "Polygon",
        "coordinates": [[[125.30, 43.78], [125.35, 43.78], [125.35, 43.83], [125.30, 43.83], [125.30, 43.78]]],
    },
}


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("NANGUAN_BASEMAP", "none")
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_no_area_shows_the_hint_and_the_conflicts(app: AppTest) -> None:
    assert not app.exception
    assert any("按钮画面、线或点" in c.value for c in app.caption)
    conflicts = next(d.value for d in app.dataframe if "冲突" in d.value.columns)
    assert conflicts["编号 A"].tolist() == ["D10", "R089", "F091"]


def test_a_drawn_area_fills_the_panel_and_stays(app: AppTest) -> None:
    app.session_state["map"] = {"all_drawings": [DRAWN], "last_active_drawing": DRAWN}
    app.run()
    shown = metrics(app)
    # the same figures as `python -m geo impact` gives for this rectangle
    assert shown["范围面积"] == "2,235.34 ha"
    assert shown["涉及户数（按面积比例）"] == "9" and shown["更新地块"] == "1 · 15.00 ha"
    assert any(b.key == "dl_impact_area" for b in app.get("download_button"))
    app.session_state["map"] = {"all_drawings": [], "last_active_drawing": None}  # the map redrawn
    app.run()
    assert metrics(app)["范围面积"] == "2,235.34 ha"
    app.button(key="impact_clear").click().run()
    assert "范围面积" not in metrics(app)


def test_a_line_needs_a_buffer(app: AppTest) -> None:
    geometry = {"type": "LineString", "coordinates": [[125.30, 43.80], [125.35, 43.80]]}
    line = {"type": "Feature", "properties": {}, "geometry": geometry}
    app.session_state["map"] = {"all_drawings": [line], "last_active_drawing": line}
    app.run()
    assert "线或点没有面积：请给出以米为单位的缓冲距离" in app.error[0].value
    app.number_input(key="impact_buffer").set_value(40.0).run()
    assert not app.error and metrics(app)["范围面积"].endswith(" ha")


def test_a_key_area_is_the_area(app: AppTest) -> None:
    import geopandas as gpd

    from .common import SAMPLE

    # 重庆路商圈 measured here on its own, in CGCS2000 / 3-degree GK zone 43 (EPSG:4551)
    areas = gpd.read_file(SAMPLE, layer="areas").set_index("area_id")
    hectares = areas.to_crs(4551).area["A04"] / 10_000
    facilities = gpd.read_file(SAMPLE, layer="facilities")
    inside = int(facilities.within(areas.geometry["A04"]).sum())
    box = app.selectbox(key="impact_feature")
    assert "重点区域 · 重庆路商圈" in box.options
    box.set_value("areas:A04").run()
    assert not app.exception and not app.error
    assert any(c.value == "范围：重点区域 · 重庆路商圈" for c in app.caption)
    shown = metrics(app)
    assert shown["范围面积"] == f"{hectares:,.2f} ha"
    assert inside == 1 and shown["公共设施"] == "1"  # the pump station in the shopping district
    app.button(key="impact_clear").click().run()
    assert "范围面积" not in metrics(app) and app.selectbox(key="impact_feature").value is None


def test_a_million_vertex_area_is_refused_in_one_line(app: AppTest) -> None:
    """Uploaded, it took 1.1 GB and sent 41 MB to the browser; drawn (as a crafted request
    could send it), the same. Now one line each, and the panel stays empty."""
    text = million_vertex_area()
    app.file_uploader(key="impact_upload").set_value(("征收范围.geojson", text.encode(), "application/geo+json")).run()
    assert not app.exception
    assert [shown(e.value) for e in app.error] == [
        "征收范围.geojson：范围有 1,000,001 个顶点，超过 100,000 个的上限（NANGUAN_MAX_VERTICES），请先简化或提高上限"
    ]
    assert "范围面积" not in metrics(app) and "impact_area" not in app.session_state
    drawn = {"type": "Feature", "properties": {}, "geometry": json.loads(text)}
    app.session_state["map"] = {"all_drawings": [drawn], "last_active_drawing": drawn}
    app.run()
    assert not app.exception
    assert len(app.error) == 1 and "1,000,001" in shown(app.error[0].value)
    assert "范围面积" not in metrics(app)
