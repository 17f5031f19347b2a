"""The production server configuration (core/gunicorn_conf.py): preloaded app, a pool per worker."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_preloaded_workers_each_answer_from_the_database(tmp_path):
    env = {**os.environ, "FYGITAAL_ENV": "production", "FYGITAAL_SECRET_KEY": "gunicorn-test-secret",
           "FYGITAAL_INSTANCE_PATH": str(tmp_path), "FYGITAAL_DATABASE_URL": f"sqlite:///{tmp_path}/app.db",
           "FYGITAAL_STORAGE_PATH": str(tmp_path / "files")}
    env.pop("FYGITAAL_MIGRATION_DATABASE_URL", None)
    migrated = subprocess.run([str(BIN / "fygitaal"), "db", "upgrade"], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=120)
    assert migrated.returncode == 0, migrated.stderr
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", "python:core.gunicorn_conf", "--bind", f"127.0.0.1:{port}",
         "core.app:create_app()"], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        answers = [requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5) for _ in range(20)]
        assert [a.status_code for a in answers] == [200] * 20
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "Traceback" not in output, output
