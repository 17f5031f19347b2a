"""docs/plugins.md's walk-through works as written: its files are extracted and run here."""

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from core.testing.fixtures import CliRunner, joined_to, make_test_app

REPO = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```(\w+) (\S+)\n(.*?)^```$", re.S | re.M)


@pytest.fixture
def walkthrough(tmp_path, monkeypatch):
    """The walk-through's files, with the plugin installed (an entry point on sys.path)."""
    files = {path: body for _lang, path, body in FENCE.findall((REPO / "docs/plugins.md").read_text())}
    package = tmp_path / "fygitaal-openingsuren"
    for path, body in files.items():
        if not path.startswith("tenants/"):
            (package / path).parent.mkdir(parents=True, exist_ok=True)
            (package / path).write_text(body)
    dist = package / "fygitaal_openingsuren-0.1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fygitaal-openingsuren\nVersion: 0.1.0\n")
    entry_points = tomllib.loads(files["pyproject.toml"])["project"]["entry-points"]["fygitaal"]
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (dist / "entry_points.txt").write_text("[fygitaal]\n" + lines)
    monkeypatch.syspath_prepend(str(package))
    tenants = tmp_path / "tenants"
    shutil.copytree(REPO / "tenants", tenants)
    with (tenants / "wachtebeke.toml").open("a") as handle:
        handle.write("\n" + files["tenants/wachtebeke.toml"])
    return package, tenants


def test_the_walkthrough_plugin_installs_enables_and_serves(walkthrough, database_urls, tmp_path, db_session):
    _package, tenants = walkthrough
    app = make_test_app(database_urls, tmp_path / "instance")
    assert "openingsuren" in app.extensions["fygitaal.plugins"].plugins
    with joined_to(app, db_session.connection()):
        applied = CliRunner(app).invoke(args=["tenants", "apply", str(tenants)])
        assert applied.exit_code == 0, applied.output
        client = app.test_client()
        page = client.get("/wachtebeke/openingsuren/")
        assert page.status_code == 200
        assert "Woensdag ook 14.00 – 19.00 uur" in page.text
        assert 'href="/wachtebeke/openingsuren/"' in client.get("/wachtebeke/").text
        assert client.get("/lochristi/openingsuren/").status_code == 404


def test_the_walkthrough_test_passes_with_the_test_kit(walkthrough):
    package, _tenants = walkthrough
    env = {k: v for k, v in os.environ.items() if not k.startswith("FYGITAAL_")}
    env["PYTHONPATH"] = str(package)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_openingsuren.py"],
        cwd=package, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
