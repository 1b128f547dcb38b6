"""The Streamlit app through AppTest: it runs, and widgets change what the tables say."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from .common import ROOT


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("NANGUAN_BASEMAP", "none")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    return at.run()


def stats(at: AppTest):
    return at.dataframe[0].value


def test_runs_in_chinese_with_the_plan_figures(app: AppTest) -> None:
    assert not app.exception
    assert app.title[0].value == "南关城市更新一张图"
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["存量路网条段"] == "96 段"
    assert metrics["存量路网里程"] == "38.4 公里"
    assert metrics["回迁安置户数"] == "278 户"
    intact = next(m for m in app.metric if m.label == "道路完好率")
    assert intact.value == "69.39 %" and intact.proto.delta_description == "目标 98 %"
    assert any("示意数据" in i.value for i in app.info)
    table = stats(app)
    assert table.columns[:4].tolist() == ["区划代码", "街道乡镇", "绿地数", "绿地 (ha)"]
    assert table.columns[8:12].tolist() == ["河流数", "河流 (km)", "道路数", "道路 (km)"]
    assert table.iloc[-1]["街道乡镇"] == "合计" and table.iloc[-1]["道路数"] == 96


def test_english_toggle(app: AppTest) -> None:
    app.radio(key="lang_choice").set_value("English").run()
    assert app.title[0].value == "Nanguan urban-renewal map"
    assert stats(app).columns[:4].tolist() == ["Admin code", "Sub-districts", "Greenbelt count", "Greenbelt (ha)"]
    assert stats(app).columns[8:12].tolist() == ["Rivers count", "Rivers (km)", "Roads count", "Roads (km)"]
    assert {m.label for m in app.metric} >= {"Road segments", "Households resettled"}
    assert stats(app).iloc[-1]["Sub-districts"] == "Total"


def test_district_filter_narrows_the_table(app: AppTest) -> None:
    app.multiselect(key="districts").set_value(["220102013"]).run()
    table = stats(app)
    assert table["区划代码"].tolist() == ["220102013", "TOTAL"]
    assert table.iloc[0]["道路数"] == table.iloc[1]["道路数"] == 50


def test_status_filter_changes_road_kilometres(app: AppTest) -> None:
    everything = stats(app).iloc[-1]["道路 (km)"]
    app.multiselect(key="f_roads_status").set_value(["open"]).run()
    table = stats(app)
    assert table.iloc[-1]["道路 (km)"] == pytest.approx(table.iloc[-1]["道路·已通车 (km)"])
    assert table.iloc[-1]["道路·规划 (km)"] == 0
    assert table.iloc[-1]["道路 (km)"] < everything


def test_layer_toggle_drops_its_download(app: AppTest) -> None:
    keys = {b.key for b in app.get("download_button")}
    assert "dl_roads" in keys
    app.checkbox(key="show_roads").uncheck().run()
    assert "dl_roads" not in {b.key for b in app.get("download_button")}


def test_search_reports_what_it_found(app: AppTest) -> None:
    app.text_input(key="query").input("甲一路").run()
    # 10 segments of 甲一路 and the two pipelines laid along it
    assert app.success[0].value == "找到 12 个要素，已缩放至其范围"
    app.text_input(key="query").input("不存在的路").run()
    assert "没有名称包含" in app.warning[0].value


def test_bad_source_is_one_clear_error(app: AppTest) -> None:
    app.text_input(key="source").input("missing.gpkg").run()
    assert not app.exception
    assert app.error[0].value.startswith("无法加载数据：")
    assert "missing.gpkg: no such file" in app.error[0].value


def test_offline_offers_only_the_plain_basemap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NANGUAN_OFFLINE", "1")
    monkeypatch.setenv("NANGUAN_BASEMAP", "osm")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert at.selectbox(key="basemap").options == ["无底图"]
    assert any("离线模式" in c.value for c in at.sidebar.caption)


def test_tianditu_without_key_falls_back_with_a_hint(app: AppTest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    app.selectbox(key="basemap").set_value("tianditu_vec").run()
    assert not app.exception
    assert "TIANDITU_KEY" in app.sidebar.warning[0].value


def test_roads_can_be_coloured_by_condition(app: AppTest) -> None:
    box = app.selectbox(key="colour_roads")
    assert box.options == ["状态", "路况"]
    box.set_value("condition").run()
    assert not app.exception and not app.error
