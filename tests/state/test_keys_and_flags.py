"""Versioned keys with an own-version-first reader; feature flags with a stable rollout."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from expandcontract.state import (
    OBJECT_TEMPLATE,
    AppConfigFlagProvider,
    FeatureFlags,
    FileFlagProvider,
    InvalidFlagDocument,
    OwnVersionFirst,
    UnreadableValue,
    VersionedKeys,
    parse_flag_document,
    rollout_bucket,
)


def test_versioned_keys() -> None:
    assert VersionedKeys("customer", "v2").key(42) == "customer:v2:42"
    exports = VersionedKeys("exports", "v1", template=OBJECT_TEMPLATE)
    assert exports.key("a.json") == "v1/exports/a.json"
    assert exports.for_version("v2").key("a.json") == "v2/exports/a.json"


def test_the_reader_prefers_its_own_version_then_converts_the_other() -> None:
    store = {"n:v1:1": b'"flat"', "n:v2:1": b'{"s": 1}', "n:v1:2": b'"only old"'}
    reader = OwnVersionFirst("v2", {"v1": lambda raw: {"from": json.loads(raw)}, "v2": json.loads})
    keys = VersionedKeys("n", "v2")
    own = reader.read(store.get, keys, 1)
    assert own is not None and (own.value, own.version) == ({"s": 1}, "v2")
    other = reader.read(store.get, keys, 2)
    assert other is not None and (other.value, other.key) == ({"from": "only old"}, "n:v1:2")
    assert reader.read(store.get, keys, 3) is None


def test_a_value_no_reader_understands_is_a_typed_error() -> None:
    reader = OwnVersionFirst("v2", {"v2": json.loads})
    with pytest.raises(UnreadableValue) as caught:
        reader.read({"n:v2:1": b"\x00garbage"}.get, VersionedKeys("n", "v2"), 1)
    assert caught.value.key == "n:v2:1" and caught.value.reason == "unknown_format"


def test_rollout_is_stable_and_spread() -> None:
    assert rollout_bucket("f", "alice") == rollout_bucket("f", "alice")
    assert rollout_bucket("f", "alice") != rollout_bucket("g", "alice")
    # Stable across processes (Python's hash() is salted per process; ours is not).
    code = "from expandcontract.state import rollout_bucket; print(rollout_bucket('f', 'alice'))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert float(other.stdout) == rollout_bucket("f", "alice")
    share = sum(rollout_bucket("f", f"u{i}") < 25 for i in range(4000)) / 4000
    assert 0.22 < share < 0.28


def test_file_flags_follow_the_file_and_keep_the_last_good_document(tmp_path) -> None:
    path = tmp_path / "flags.json"
    path.write_text(
        json.dumps({"f": {"enabled": True, "percentage": 50}, "off": {"enabled": False}})
    )
    flags = FeatureFlags(FileFlagProvider(path), refresh_seconds=0)
    users = [f"u{i}" for i in range(200)]
    on = {u for u in users if flags.enabled("f", u)}
    assert on == {u for u in users if rollout_bucket("f", u) < 50}
    assert not flags.enabled("off", "u1") and not flags.enabled("missing", "u1")
    assert not flags.enabled("f")  # a partial rollout needs a user

    path.write_text(json.dumps({"f": {"enabled": True, "percentage": 101}}))
    assert {u for u in users if flags.enabled("f", u)} == on  # kept
    assert flags.stats.invalid_documents == 1 and "percentage" in str(flags.stats.last_error)
    path.unlink()
    assert flags.enabled("f", next(iter(on)))  # the file vanished: still the last good flags
    assert flags.stats.fetch_errors == 1


@pytest.mark.parametrize(
    "document",
    [
        "[]",
        "{",
        '{"f": {}}',
        '{"f": {"enabled": 1}}',
        '{"f": {"enabled": true, "percentage": -1}}',
        '{"bad name": {"enabled": true}}',
    ],  # fmt: skip
)
def test_invalid_flag_documents(document) -> None:
    with pytest.raises(InvalidFlagDocument):
        parse_flag_document(document)


def _body(data: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(data), len(data))


def test_appconfig_provider_follows_the_data_api_token_protocol() -> None:
    """AppConfig Data: one session, then GetLatestConfiguration with each returned token; an
    empty configuration means unchanged. moto has no appconfigdata, so botocore's Stubber
    checks the calls against the real service model."""
    import boto3

    client = boto3.client(
        "appconfigdata", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    now = [0.0]
    provider = AppConfigFlagProvider("app", "prod", "flags", client=client, clock=lambda: now[0])
    document = json.dumps({"f": {"enabled": True}}).encode()
    with Stubber(client) as stub:
        stub.add_response(
            "start_configuration_session",
            {"InitialConfigurationToken": "t0"},
            {"ApplicationIdentifier": "app", "EnvironmentIdentifier": "prod",
             "ConfigurationProfileIdentifier": "flags", "RequiredMinimumPollIntervalInSeconds": 15},
        )  # fmt: skip
        stub.add_response(
            "get_latest_configuration",
            {"NextPollConfigurationToken": "t1", "NextPollIntervalInSeconds": 30,
             "ContentType": "application/json", "Configuration": _body(document)},
            {"ConfigurationToken": "t0"},
        )  # fmt: skip
        stub.add_response(
            "get_latest_configuration",
            {"NextPollConfigurationToken": "t2", "NextPollIntervalInSeconds": 30,
             "Configuration": _body(b"")},
            {"ConfigurationToken": "t1"},
        )  # fmt: skip
        flags = FeatureFlags(provider, refresh_seconds=0, clock=lambda: now[0])
        assert flags.enabled("f", "u")
        now[0] = 10.0
        assert provider.fetch() is None  # before the poll interval: no call at all
        now[0] = 31.0
        assert flags.enabled("f", "u")  # unchanged document, token advanced
        stub.assert_no_pending_responses()


def test_importing_the_state_api_needs_neither_flask_nor_boto3() -> None:
    code = (
        "import sys, expandcontract.state; "
        "print(sorted(m for m in ('flask', 'boto3', 'botocore') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
