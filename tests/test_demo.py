"""`fygitaal demo` (what `make demo` runs): a real app and a real OIDC provider on loopback."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parent.parent
FYGITAAL = Path(sys.executable).parent / "fygitaal"


def fetch(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


def start_demo(instance: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "FYGITAAL_INSTANCE_PATH": str(instance),
           "FYGITAAL_DATABASE_URL": f"sqlite:///{instance}/demo.db"}
    env.pop("FYGITAAL_MIGRATION_DATABASE_URL", None)
    return subprocess.Popen(
        [str(FYGITAAL), "demo", "--port", "0", "--idp-port", "0", *extra],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def wait_for_manifest(process: subprocess.Popen, path: Path) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if path.exists():
            return json.loads(path.read_text())
        if process.poll() is not None:
            pytest.fail(f"demo stopped early:\n{process.stdout.read()}")
        time.sleep(0.2)
    process.kill()
    pytest.fail("demo did not write demo.json within 60 s")


def assert_staff_can_log_in(manifest: dict, subject: str, page: str) -> None:
    """The whole login, as a browser would: app → provider → app, then a staff page."""
    browser = requests.Session()
    tenant = page.split("/")[1]
    at_provider = browser.get(f"{manifest['base_url']}/{tenant}/login?next={page}", timeout=10)
    back = browser.post(at_provider.url, data={"sub": subject}, timeout=10)
    assert back.status_code == 200 and back.url == manifest["base_url"] + page, back.url
    assert subject.split("-")[0].capitalize() in back.text


def assert_api_client_gets_a_token(manifest: dict, tenant: str) -> None:
    client = next(c for c in manifest["api_clients"] if c["tenant"] == tenant)
    token = requests.post(f"{manifest['base_url']}/oauth/token", timeout=10,
                          data={"grant_type": "client_credentials"},
                          auth=(client["client_id"], client["client_secret"])).json()["access_token"]
    departments = requests.get(f"{manifest['base_url']}/api/v1/{tenant}/departments", timeout=10,
                               headers={"Authorization": f"Bearer {token}"})
    assert departments.status_code == 200
    assert {"code": "openbare_werken", "name": "Openbare werken"} in departments.json()


def stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=20)
    return output


def test_demo_serves_the_municipalities_and_the_provider(tmp_path):
    process = start_demo(tmp_path)
    try:
        manifest = wait_for_manifest(process, tmp_path / "demo.json")
        assert [t["slug"] for t in manifest["tenants"]] == ["destelbergen", "lochristi", "moerbeke", "wachtebeke"]
        roles = {(u["role"], u["tenant"]) for u in manifest["users"]}
        assert ("inwoner", None) in roles and ("regio", None) in roles
        for slug in ("lochristi", "moerbeke"):
            for role in ("onthaal", "behandelaar", "beheerder"):
                assert (role, slug) in roles
        status, home = fetch(manifest["base_url"] + "/")
        assert status == 200 and "Lochristi" in home and "Wachtebeke" in home
        status, rounds = fetch(manifest["base_url"] + "/lochristi/grofvuil/")
        assert status == 200 and "Zaffelare" in rounds, "the demo seeds the pilot's rounds"
        status, discovery = fetch(manifest["idp_url"] + "/.well-known/openid-configuration")
        assert json.loads(discovery)["issuer"] == manifest["idp_url"]
        assert_staff_can_log_in(manifest, "lochristi-beheerder", "/lochristi/beheer/")
        assert_api_client_gets_a_token(manifest, "moerbeke")
    finally:
        output = stop(process)
    assert process.returncode == 0, output
    assert "Stopping the demo" in output
    assert manifest["base_url"] in output

    # Running it again keeps the data: the municipalities are unchanged, not created anew.
    (tmp_path / "demo.json").unlink()
    again = start_demo(tmp_path)
    try:
        wait_for_manifest(again, tmp_path / "demo.json")
    finally:
        output = stop(again)
    assert "lochristi: unchanged" in output

    # --reset starts over.
    (tmp_path / "demo.json").unlink()
    reset = start_demo(tmp_path, "--reset")
    try:
        wait_for_manifest(reset, tmp_path / "demo.json")
    finally:
        output = stop(reset)
    assert "Resetting the demo database" in output
    assert "lochristi: created" in output
