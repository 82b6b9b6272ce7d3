"""The remote OPA engine gives the same verdicts as the in-process one, and fails clearly.

The server is ``opa run --server`` when an ``opa`` binary is on PATH, else the
stand-in (``compliance.engines.opa_standin``): OPA's REST API over the real OPA
library, because no OPA server installs on these machines.
"""

from __future__ import annotations

import functools
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from opa_client import OpaClient
from opa_client.errors import (
    DeleteDataError,
    DeletePolicyError,
    PolicyNotFoundError,
    RegoParseError,
)

from compliance.catalogue import POLICY_ROOT
from compliance.engines import default_engine
from compliance.engines.opa_local import LocalOpaEngine
from compliance.engines.opa_remote import DEFAULT_TIMEOUT_SECONDS, RemoteOpaEngine
from compliance.engines.opa_standin import StandInOpaServer, opa_errors, opa_server
from compliance.errors import InputError
from compliance.evaluation import Evaluation
from compliance.mutations import CATALOGUE
from compliance.reports.json_report import check_document
from compliance.runner import CheckOptions, run_check

BROKEN_SYNTAX = "package dr.rules.broken\n\nimport rego.v1\n\nbad if {\n"
CONFLICT = "package dr.rules.conflict\n\nf(_) := 1\n\nf(_) := 2\n\ndeny contains f(1) if true\n"


@pytest.fixture(scope="module")
def opa_url() -> Iterator[str]:
    with opa_server() as url:
        yield url


@pytest.fixture
def standin() -> Iterator[StandInOpaServer]:
    """Always the stand-in (its knobs, e.g. a slow evaluation, are not OPA's)."""
    with StandInOpaServer() as server:
        yield server


def _client(url: str) -> OpaClient:
    host, port = url.removeprefix("http://").split(":")
    return OpaClient(host=host, port=int(port), timeout=10, retries=0)


def _policy_ids(client: OpaClient) -> list[str]:
    """GET /v1/policies. (``client.get_policies_list`` asks for ``/v1/policies/``,
    which OPA 1.x routes to "the policy whose id is empty": a 404.)"""
    response = client._session.get(f"{client.root_url}/policies", timeout=client.timeout)
    response.raise_for_status()
    return [policy["id"] for policy in response.json()["result"]]


def _assert_server_clean(url: str) -> None:
    """What the engine uploaded is gone after close()."""
    client = _client(url)
    try:
        assert _policy_ids(client) == []
        assert client.get_data()["result"] == {}
    finally:
        client.close_connection()


def _per_requirement(evaluation: Evaluation) -> dict[str, tuple[Any, ...]]:
    return {
        result.requirement.id: (
            result.status,
            [finding.to_dict() for finding in result.findings],
            result.evaluated,
        )
        for result in evaluation.results
    }


def _assert_identical(path: Path, url: str) -> Evaluation:
    """The FULL policy set through both engines: same verdicts, findings, subjects."""
    local = run_check(path, engine=LocalOpaEngine())
    remote = run_check(path, engine=RemoteOpaEngine(url))
    assert _per_requirement(remote) == _per_requirement(local)
    assert check_document(remote) == check_document(local)
    assert url in remote.engine_version
    _assert_server_clean(url)
    return local


def test_same_verdicts_on_the_project_stacks(synth_dir: Path, opa_url: str) -> None:
    local = _assert_identical(synth_dir, opa_url)
    assert local.results, "no requirement was evaluated"
    assert sum(len(result.evaluated) for result in local.results) > 0


# The reference example's mutant (DR-ENC-01), else whichever comes first.
MUTANT = "key rotation off" if "key rotation off" in CATALOGUE else sorted(CATALOGUE)[0]


def test_same_findings_on_a_mutated_copy(synth_dir: Path, opa_url: str, tmp_path: Path) -> None:
    mutant = CATALOGUE[MUTANT]
    target = mutant.build(synth_dir, tmp_path / "mutant")
    local = _assert_identical(tmp_path / "mutant", opa_url)
    flagged = {(f.stack, f.address) for f in local.result(mutant.requirement).findings}
    assert flagged, f"{MUTANT} gave no finding to compare"
    assert (target.stack, target.address) in flagged


def test_rego_syntax_error_names_file_and_line(
    synth_dir: Path, opa_url: str, tmp_path: Path
) -> None:
    # A small policy folder: every PUT makes OPA compile all stored modules.
    root = tmp_path / "policies"
    for part in ("lib/dr.rego", "encryption/dr_enc_01.rego", "settings.yaml"):
        (root / part).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(POLICY_ROOT / part, root / part)
    rule = root / "encryption" / "dr_enc_01.rego"
    rule.write_text(rule.read_text(encoding="utf-8") + "\nbroken if {\n", encoding="utf-8")
    options = CheckOptions(policy_root=root)
    with pytest.raises(InputError) as remote:
        run_check(synth_dir, options, engine=RemoteOpaEngine(opa_url))
    with pytest.raises(InputError) as local:
        run_check(synth_dir, options, engine=LocalOpaEngine())
    assert remote.value.path.startswith("policies/encryption/dr_enc_01.rego:")
    assert "rego_parse_error" in remote.value.reason
    assert str(remote.value) == str(local.value)
    assert "\n" not in str(remote.value)
    _assert_server_clean(opa_url)


def test_type_and_evaluation_errors_read_as_in_process(opa_url: str) -> None:
    cases = {
        "policies/x/typo.rego": "package dr.rules.typo\n\nimport data.dr.lib\n\np := lib.nope(1)\n",
        "policies/x/conflict.rego": CONFLICT,
    }
    for name, source in cases.items():
        errors = []
        for engine in (LocalOpaEngine(), RemoteOpaEngine(opa_url)):
            try:
                with pytest.raises(InputError) as caught:
                    engine.load({name: source}, {})
                    engine.evaluate("dr.rules", {})
                errors.append(str(caught.value))
            finally:
                engine.close()
        assert errors[0] == errors[1]
        assert errors[1].startswith(f"{name}:")
    _assert_server_clean(opa_url)


def test_imports_resolved_in_any_order(opa_url: str) -> None:
    """A rule calling the library by full path (no import) still loads before it."""
    modules = {
        "policies/a/rule.rego": "package dr.rules.a\n\ndeny contains data.dr.zlib.word if true\n",
        "policies/z/lib.rego": 'package dr.zlib\n\nword := "ok"\n',
    }
    engine = RemoteOpaEngine(opa_url)
    try:
        engine.load(modules, {"settings": {}})
        assert engine.evaluate("dr.rules", {}) == {"a": {"deny": ["ok"]}}
        assert engine.evaluate("dr.nothing", {}) == {}
    finally:
        engine.close()
    _assert_server_clean(opa_url)


def test_server_down_is_one_line_naming_the_url() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    engine = RemoteOpaEngine(url, timeout=2)
    with pytest.raises(InputError) as caught:
        engine.load({"policies/x/a.rego": "package dr.rules.a\n"}, {"settings": {}})
    assert caught.value.path == url
    assert "cannot reach the OPA server" in caught.value.reason
    assert "refused" in caught.value.reason.lower()
    assert "\n" not in str(caught.value)
    with pytest.raises(InputError, match="cannot reach"):
        engine.version()
    engine.close()  # nothing was uploaded: nothing to clean, no error


def test_an_answer_that_is_not_opa(tmp_path: Path) -> None:
    """A web server that is not OPA (HTML error pages) is named, in one line."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as httpd:
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        try:
            engine = RemoteOpaEngine(url, timeout=5)
            with pytest.raises(InputError) as caught:
                engine.load({"policies/x/a.rego": "package dr.rules.a\n"}, {"settings": {}})
            assert caught.value.path == url
            assert "not an OPA answer" in caught.value.reason
            with pytest.raises(InputError, match="HTTP 404"):
                engine.version()
        finally:
            httpd.shutdown()
            thread.join(timeout=10)


def test_cleanup_failure_warns_instead_of_hiding_the_run_error() -> None:
    server = StandInOpaServer().start()
    engine = RemoteOpaEngine(server.url, timeout=2)
    engine.load({"policies/x/a.rego": "package dr.rules.a\n\np := 1\n"}, {"settings": {}})
    server.stop()
    with pytest.warns(RuntimeWarning, match="could not clean up the OPA server"):
        engine.close()


def test_timeout_is_configurable_and_honoured(
    monkeypatch: pytest.MonkeyPatch, opa_url: str
) -> None:
    with StandInOpaServer(eval_delay_seconds=5) as slow:
        monkeypatch.setenv("OPA_URL", slow.url)
        monkeypatch.setenv("OPA_TIMEOUT_SECONDS", "0.3")
        engine = default_engine()
        assert isinstance(engine, RemoteOpaEngine) and engine.timeout == 0.3
        try:
            engine.load({"policies/x/a.rego": "package dr.rules.a\n\np := 1\n"}, {})
            started = time.monotonic()
            with pytest.raises(InputError) as caught:
                engine.evaluate("dr.rules", {})
            assert time.monotonic() - started < 3
        finally:
            engine.close()
        assert caught.value.path == slow.url
        assert "within 0.3 s" in caught.value.reason
        assert "OPA_TIMEOUT_SECONDS" in caught.value.reason
        _assert_server_clean(slow.url)


def test_engine_choice_and_settings_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPA_URL", raising=False)
    monkeypatch.delenv("OPA_TIMEOUT_SECONDS", raising=False)
    engine = default_engine()
    assert isinstance(engine, LocalOpaEngine)
    engine.close()
    monkeypatch.setenv("OPA_URL", "https://opa.example.com")
    remote = default_engine()
    assert isinstance(remote, RemoteOpaEngine)
    assert remote.timeout == DEFAULT_TIMEOUT_SECONDS
    assert remote._client.root_url == "https://opa.example.com:443/v1"
    for bad in ("abc", "0", "-1", "inf"):
        monkeypatch.setenv("OPA_TIMEOUT_SECONDS", bad)
        with pytest.raises(InputError, match="OPA_TIMEOUT_SECONDS"):
            default_engine()
    monkeypatch.delenv("OPA_TIMEOUT_SECONDS")
    for bad in ("ftp://x:1", "http://h:1/opa", "http://h:99999", "nonsense"):
        monkeypatch.setenv("OPA_URL", bad)
        with pytest.raises(InputError, match="OPA_URL"):
            default_engine()


def test_version_asks_the_server(opa_url: str) -> None:
    engine = RemoteOpaEngine(opa_url)
    try:
        assert engine.version().startswith("OPA ")
        assert engine.version().endswith(f"at {opa_url}")
    finally:
        engine.close()


def test_data_that_is_not_an_object(standin: StandInOpaServer) -> None:
    engine = RemoteOpaEngine(standin.url)
    try:
        engine.load(
            {"policies/x/a.rego": "package dr.rules.a\n\nlimit := data.limits[0]\n"},
            {"limits": [7]},
        )
        assert engine.evaluate("dr.rules.a", {}) == {"limit": 7}
    finally:
        engine.close()
    _assert_server_clean(standin.url)


# -- the stand-in speaks OPA's REST API, as opa-python-client uses it ----------


def test_standin_policies_api(standin: StandInOpaServer) -> None:
    client = _client(standin.url)
    try:
        assert client.check_health()
        lib = 'package dr.zlib\n\nword := "ok"\n'
        rule = "package dr.rules.a\n\nimport data.dr.zlib\n\nx := zlib.word\n"
        assert client.update_policy_from_string(lib, "lib.rego")
        assert client.update_policy_from_string(lib, "lib.rego")  # unchanged: accepted
        assert client.update_policy_from_string(rule, "rule.rego")
        assert _policy_ids(client) == ["lib.rego", "rule.rego"]
        with pytest.raises(requests.HTTPError, match="404"):
            client.get_policies_list()  # see _policy_ids
        assert client.get_policy("rule.rego")["result"]["raw"] == rule
        with pytest.raises(PolicyNotFoundError):
            client.get_policy("nope.rego")
        other = "package dr.rules.b\n\nimport data.dr.zlib\n\ny := zlib.word\n"
        assert client.update_policy_from_string(other, "b.rego")
        assert client.delete_policy("b.rego")
        with pytest.raises(RegoParseError) as refused:
            client.update_policy_from_string("package p\n\nq if {\n", "bad.rego")
        location = refused.value.errors[0]["location"]
        assert (location["file"], location["row"]) == ("bad.rego", 4)
        with pytest.raises(DeletePolicyError):
            client.delete_policy("nope.rego")
        assert client.query_rule({}, "dr.rules.a", "x") == {"result": "ok"}
        assert client.ad_hoc_query("x := data.dr.rules.a.x") == {"result": [{"x": "ok"}]}
        assert client.ad_hoc_query("x := 1; x == 2") == {}
        assert client.delete_policy("rule.rego") and client.delete_policy("lib.rego")
    finally:
        client.close_connection()


def test_standin_refuses_deleting_a_needed_module(standin: StandInOpaServer) -> None:
    client = _client(standin.url)
    try:
        client.update_policy_from_string("package lib\n\nf(x) := x\n", "lib.rego")
        client.update_policy_from_string("package app\n\ny := data.lib.f(1)\n", "app.rego")
        with pytest.raises(DeletePolicyError) as refused:
            client.delete_policy("lib.rego")
        assert refused.value.expression == "invalid_operation"
    finally:
        client.close_connection()


def test_standin_data_api(standin: StandInOpaServer) -> None:
    client = _client(standin.url)
    try:
        assert client.update_or_create_data({"a": 1}, "cfg")
        assert client.patch_data(
            "cfg",
            [
                {"op": "add", "path": "/b", "value": [1, 2]},
                {"op": "replace", "path": "/a", "value": 3},
                {"op": "remove", "path": "/b"},
            ],
        )
        assert client.get_data("cfg")["result"] == {"a": 3}
        assert client.get_data("cfg/a")["result"] == 3
        with pytest.raises(PolicyNotFoundError):
            client.get_data("cfg/missing")
        client.update_or_create_data({"v": 1}, "odd-name")
        assert client.get_data("odd-name/v")["result"] == 1
        assert client.delete_data("odd-name") and client.delete_data("cfg")
        with pytest.raises(DeleteDataError, match="does not exist"):
            client.delete_data("cfg")
        session, root = client._session, client.root_url
        assert session.put(f"{root}/data", json=[1]).status_code == 400
        assert session.put(f"{root}/data/x", data=b"{not json").status_code == 400
        assert session.patch(f"{root}/data", json=[{"op": "move"}]).status_code == 400
        assert session.patch(f"{root}/data", json={"op": "add"}).status_code == 400
        posted = session.post(f"{root}/data/nothing", json={})
        assert posted.json()["warning"]["code"] == "api_usage_warning"
        assert session.post(f"{root}/data", json=[1]).status_code == 400
        assert session.post(f"{root}/query", json={"q": 1}).status_code == 400
        assert session.post(f"{root}/query", json={"query": "x := "}).status_code == 400
        assert session.get(f"{root}/query").status_code == 405
        assert session.get(f"{standin.url}/nowhere").status_code == 404
    finally:
        client.close_connection()


def test_opa_errors_from_library_text() -> None:
    text = "1 error occurred: p.rego:3: rego_parse_error: unexpected eof token\n\tq if {\n\t     ^"
    assert opa_errors(text) == [
        {
            "code": "rego_parse_error",
            "message": "unexpected eof token",
            "location": {"file": "p.rego", "row": 3, "col": 6},
        }
    ]
    assert opa_errors("something without a location") == []
