"""python -m helpers: each command's exit code and output, against the local cloud."""

from __future__ import annotations

import datetime as _dt
import json
import re
import sys
import types
from urllib.parse import urlparse

import nbformat
import pytest
from kit_world import build_lookalikes, build_small_kit, census, use_local_cloud

from helpers.__main__ import main, parse_duration, parse_value


def test_cleanup_in_local_mode_deletes_and_says_so(kit_env, capsys):
    made = build_small_kit(kit_env)
    assert main(["cleanup"]) == 0
    out = capsys.readouterr().out
    assert f"prefix {kit_env}: deleted {len(made)}," in out
    assert not made & census()


def test_cleanup_in_aws_mode_without_yes_only_lists(kit_env, local_cloud, monkeypatch, capsys):
    made = build_small_kit(kit_env)
    use_local_cloud(monkeypatch, local_cloud, kit_env, mode="aws")
    assert main(["cleanup"]) == 0
    out = capsys.readouterr().out
    assert "nothing deleted" in out and "--yes" in out and f"{kit_env}-inference-metadata" in out
    assert made <= census()


def test_cleanup_in_aws_mode_with_yes_deletes(kit_env, local_cloud, monkeypatch, capsys):
    made = build_small_kit(kit_env)
    use_local_cloud(monkeypatch, local_cloud, kit_env, mode="aws")
    assert main(["cleanup", "--yes"]) == 0
    assert not made & census()


def test_cleanup_of_another_prefix_leaves_mine(kit_env, capsys):
    mine, theirs = build_small_kit(kit_env), build_small_kit(f"{kit_env}-x")
    assert main(["cleanup", "--prefix", f"{kit_env}-x"]) == 0
    after = census()
    assert mine <= after and not theirs & after


def test_cleanup_sweep_takes_older_than(kit_env, capsys):
    old = (_dt.datetime.now(_dt.UTC) - _dt.timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M:%SZ")
    aged, fresh = build_small_kit(kit_env, old), build_small_kit(f"{kit_env}-x")
    assert main(["cleanup", "--all-prefixes", "--older-than", "8h", "--yes"]) == 0
    after = census()
    assert fresh <= after and not aged & after
    assert "every prefix, older than 8:00:00" in capsys.readouterr().out


def test_cleanup_rejects_a_malformed_age(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["cleanup", "--older-than", "eight hours"])
    assert exit_.value.code == 2
    assert "not a duration like 8h" in capsys.readouterr().err


def test_parse_duration_reads_seconds_minutes_hours_days():
    assert [parse_duration(t) for t in ("90s", "30m", "8h", "2d")] == [
        _dt.timedelta(seconds=90),
        _dt.timedelta(minutes=30),
        _dt.timedelta(hours=8),
        _dt.timedelta(days=2),
    ]


def test_parse_value_reads_literals_and_keeps_text():
    assert [parse_value(v) for v in ("True", "None", "3", "'a'", "jane-doe")] == [
        True,
        None,
        3,
        "a",
        "jane-doe",
    ]


def test_status_shows_resources_alarm_states_and_error_counts(kit_env, capsys):
    build_small_kit(kit_env)
    build_lookalikes(kit_env)
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert f"{kit_env}-inference-metadata" in out
    assert re.search(rf"{kit_env}-inference-errors +INSUFFICIENT_DATA ", out), out
    assert "Errors / Invocations" in out and "InferenceErrors / InferenceCount" in out
    assert "left alone" in out  # the lookalikes are shown as not the kit's


def test_status_with_settings_error_exits_2(monkeypatch, capsys):
    from helpers import session

    monkeypatch.setenv("WORKSHOP_PREFIX", "Not Valid!")
    monkeypatch.setattr(session, "_current", None)  # read the settings again
    assert main(["status"]) == 2
    assert "WORKSHOP_PREFIX" in capsys.readouterr().err


def test_traffic_without_the_generator_says_it_needs_chapter_8_2(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "helpers.traffic", None)  # as if helpers/traffic.py did not exist
    assert main(["traffic", "-n", "5"]) == 2
    assert "chapter 8.2" in capsys.readouterr().err


def test_traffic_passes_its_options_to_the_generator(monkeypatch):
    calls = []
    fake = types.ModuleType("helpers.traffic")
    fake.run = lambda **kwargs: calls.append(kwargs)
    monkeypatch.setitem(sys.modules, "helpers.traffic", fake)
    assert main(["traffic", "-n", "50", "--concurrency", "8", "--bad-share", "0.1"]) == 0
    assert calls == [{"n": 50, "concurrency": 8, "bad_share": 0.1}]


def test_local_status_reports_the_running_cloud(local_cloud, capsys):
    assert main(["local", "status", "--port", str(urlparse(local_cloud).port)]) == 0
    assert "running" in capsys.readouterr().out


def test_unknown_command_exits_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["launch"])
    assert exit_.value.code == 2


def test_run_executes_the_cleanup_notebook_with_parameters(kit_env, tmp_path, capsys):
    made = build_small_kit(kit_env)
    notebook = "notebooks/99_cleanup.ipynb"
    assert (
        main(
            [
                "run",
                notebook,
                "--param",
                f"PREFIX={kit_env}",
                "--param",
                "DELETE=True",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    executed = nbformat.read(tmp_path / "99_cleanup.ipynb", as_version=4)
    text = json.dumps([c.get("outputs", []) for c in executed.cells])
    assert f"Nothing of the kit is left for prefix {kit_env}." in text
    assert (tmp_path / "99_cleanup.html").exists()
    assert not made & census()


def test_run_writes_an_html_report_linking_each_executed_notebook(kit_env, tmp_path):
    assert (
        main(["run", "notebooks/99_cleanup.ipynb", "--param", f"PREFIX={kit_env}", "--out", str(tmp_path)])
        == 0
    )
    report = (tmp_path / "index.html").read_text()
    assert 'href="99_cleanup.html"' in report and ">ok<" in report
