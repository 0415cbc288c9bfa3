"""The summary report: figures from layers.report, charts and a static map as inline SVG, the CLI file."""

from __future__ import annotations

from datetime import datetime, timedelta, UTC

from dialogkarta.layers import report, workflow
from tests.planner_helpers import login
from tests.test_planner import seeded  # noqa: F401  (fixture)
from dialogkarta.webmap import db


def _record(rid, day, **fields):
    return {
        "id": rid,
        "created_at": datetime(2026, 3, day, 12, tzinfo=UTC),
        "category": "traffic",
        "status": "received",
        "channel": "web",
        "department": "tekniska",
        "also_departments": "",
        "area_ids": [],
        "hidden": False,
        **fields,
    }


def test_figures_of_the_summary():
    records = [
        _record(1, 2, area_ids=["a"]),
        _record(2, 3, area_ids=["a", "b"], channel="phone"),
        _record(3, 10, category="school", department="utbildning"),
        _record(4, 11, hidden=True),
    ]
    answered = {1: records[0]["created_at"] + timedelta(hours=10), 3: records[2]["created_at"] + timedelta(hours=30)}
    figures = report.summary(records, ["a", "b", "c"], answered)
    assert figures["by_area"] == {"a": 2, "b": 1, "c": 0}
    assert figures["outside_areas"] == 2
    assert figures["by_category"] == {"traffic": 3, "school": 1}
    assert figures["by_channel"] == {"web": 3, "phone": 1}
    assert figures["by_department"] == {"tekniska": 3, "utbildning": 1}
    assert figures["timeline"] == [("2026-03-02", 2), ("2026-03-09", 2)]  # ISO weeks start on Monday
    assert figures["median_hours_to_first_answer"] == 20.0
    assert (figures["total"], figures["hidden"], figures["answered"]) == (4, 1, 2)


def test_median_time_to_first_answer_is_none_without_answers():
    assert report.median_hours_to_first_answer([_record(1, 2)], {}) is None


def test_report_page_has_counts_charts_and_a_map(app, client, seeded):  # noqa: F811
    with app.app_context(), db.transaction() as conn:
        workflow.answer(conn, seeded[0]["id"], "Svar.", role="planner", now=seeded[0]["created_at"] + timedelta(hours=48))
    login(client, "anna")
    html = client.get("/planner/report").get_data(as_text=True)
    assert '<dd id="total">8</dd>' in html and '<dd id="answered">1</dd>' in html
    assert "2,0 dagar" in html  # 48 h, Swedish decimal comma
    assert html.count("<svg") >= 7  # 5 bar charts, the timeline and the map
    assert "SWEREF 99 TM" in html and "Kvarnskon–Vattenrännan" in html
    assert "@media print" not in html and "planner.css" in html


def test_cli_report_writes_a_self_contained_file(app, runner, seeded, tmp_path):  # noqa: F811
    target = tmp_path / "report.html"
    result = runner.invoke(args=["report", "-o", str(target)])
    assert result.exit_code == 0, result.output
    html = target.read_text(encoding="utf-8")
    assert "@media print" in html and "<svg" in html and '<dd id="total">8</dd>' in html
    assert "<script" not in html and "/static/" not in html


def test_report_of_an_empty_store(app, runner, tmp_path):
    target = tmp_path / "empty.html"
    result = runner.invoke(args=["report", "-o", str(target), "--lang", "en"])
    assert result.exit_code == 0, result.output
    html = target.read_text(encoding="utf-8")
    assert '<dd id="total">0</dd>' in html and "Summary of proposals" in html and "<svg" in html
