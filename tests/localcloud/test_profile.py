"""The local cloud's timing profile and account quotas (localcloud/profile.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from localcloud import profile
from localcloud.client import _restart_reason


def aws(seed: int = 7, scale: float = 1.0) -> profile.Profile:
    return profile.from_env(
        {
            "WORKSHOP_LOCAL_PROFILE": "aws",
            "WORKSHOP_LOCAL_SEED": str(seed),
            "WORKSHOP_LOCAL_TIME_SCALE": str(scale),
        }
    )


def test_the_default_profile_is_local_and_changes_are_visible_at_once():
    local = profile.from_env({})
    assert local.name == "local" and not local.aws
    assert all(local.delay(kind, "x") == 0.0 for kind in profile.DELAYS)


def test_the_aws_profile_draws_every_delay_within_the_documented_range():
    p = aws()
    for kind, (low, high) in profile.DELAYS.items():
        for key in ("a", "b", "c"):
            assert low <= p.delay(kind, key) <= high, kind


def test_the_time_scale_shortens_delays_but_every_kind_still_happens():
    full, short = aws(seed=3), aws(seed=3, scale=0.05)
    for kind in profile.DELAYS:
        if kind == "alarm_offset":  # a share of the evaluation interval, not seconds
            continue
        assert 0 < short.delay(kind, "k") == pytest.approx(full.delay(kind, "k") * 0.05)


def test_the_same_seed_replays_the_same_delays_whatever_the_order_of_asking():
    one, two = aws(seed=11), aws(seed=11)
    first = [one.delay("iam_propagation", "role-a"), one.delay("log_ingestion", "g")]
    second = [two.delay("log_ingestion", "g"), two.delay("iam_propagation", "role-a")]
    assert first == second[::-1]


def test_another_seed_draws_other_delays():
    assert aws(seed=1).delay("endpoint_create", "e") != aws(seed=2).delay("endpoint_create", "e")


def test_each_occurrence_of_a_change_draws_its_own_delay():
    p = aws()
    assert p.delay("lambda_update", "f") != p.delay("lambda_update", "f")


def test_a_started_change_completes_after_its_delay_and_not_before():
    p = aws(scale=0.01)
    ready = p.start("table_create", "t")
    assert 0 < p.remaining("table_create", "t") <= profile.DELAYS["table_create"][1] * 0.01
    time.sleep(max(0.0, ready - time.time()) + 0.01)
    assert p.remaining("table_create", "t") == 0


def test_a_change_never_started_is_complete():
    assert aws().remaining("endpoint_create", "never") == 0


def test_quotas_are_aws_documented_defaults_locally_and_a_new_accounts_under_the_aws_profile():
    assert profile.from_env({}).quota("lambda_concurrent_executions") == 1000
    assert profile.from_env({}).quota("sagemaker_serverless_total_concurrency") == 200
    assert aws().quota("lambda_concurrent_executions") == 10
    assert aws().quota("sagemaker_serverless_total_concurrency") == 10


def test_a_quota_can_be_set_for_the_local_cloud():
    p = profile.from_env({"WORKSHOP_LOCAL_SERVERLESS_CONCURRENCY": "15"})
    assert p.quota("sagemaker_serverless_total_concurrency") == 15


@pytest.mark.parametrize(
    "env, named",
    [
        ({"WORKSHOP_LOCAL_PROFILE": "slow"}, "WORKSHOP_LOCAL_PROFILE"),
        ({"WORKSHOP_LOCAL_SEED": "abc"}, "WORKSHOP_LOCAL_SEED"),
        ({"WORKSHOP_LOCAL_TIME_SCALE": "0"}, "WORKSHOP_LOCAL_TIME_SCALE"),
        ({"WORKSHOP_LOCAL_TIME_SCALE": "2"}, "WORKSHOP_LOCAL_TIME_SCALE"),
        ({"WORKSHOP_LOCAL_LAMBDA_CONCURRENCY": "-1"}, "WORKSHOP_LOCAL_LAMBDA_CONCURRENCY"),
    ],
)
def test_a_bad_setting_is_refused_with_its_name(env, named):
    with pytest.raises(profile.ProfileError, match=named):
        profile.from_env(env)


def test_a_random_seed_is_chosen_and_reported_when_none_is_set():
    described = profile.from_env({"WORKSHOP_LOCAL_PROFILE": "aws"}).describe()
    assert described["profile"] == "aws" and isinstance(described["seed"], int)


def test_a_running_local_cloud_of_another_profile_is_restarted(monkeypatch):
    from localcloud.client import code_version

    monkeypatch.setenv("WORKSHOP_LOCAL_PROFILE", "aws")
    running = {"code": code_version(), **profile.from_env({}).describe()}
    assert "profile" in _restart_reason(running)


def test_a_running_local_cloud_of_the_wanted_profile_is_kept(monkeypatch):
    from localcloud.client import code_version

    for name in (
        "WORKSHOP_LOCAL_PROFILE",
        "WORKSHOP_LOCAL_SEED",
        "WORKSHOP_LOCAL_TIME_SCALE",
        *profile.QUOTA_ENV.values(),
    ):
        monkeypatch.delenv(name, raising=False)
    assert _restart_reason({"code": code_version(), **profile.from_env({}).describe()}) == ""


def test_a_change_inside_a_behaviour_package_makes_the_running_local_cloud_stale(tmp_path):
    import shutil

    import localcloud
    from localcloud.client import code_version

    root = Path(localcloud.__file__).resolve().parents[1]
    for package in ("localcloud", "kitformats"):
        shutil.copytree(root / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    local = tmp_path / "localcloud"
    before = code_version(local)
    engine = local / "logs" / "insights" / "evaluator.py"
    engine.write_text(engine.read_text() + "\n# changed\n")
    assert code_version(local) != before
