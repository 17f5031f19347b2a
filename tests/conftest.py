"""The project's tests use the test kit in ``core/testing`` (loaded as a pytest plugin)."""

import os

import pytest
from sqlalchemy.orm import Session


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests need Debian's chromium; `.ci/run` turns them on with FYGITAAL_BROWSER_TESTS=1."""
    if os.environ.get("FYGITAAL_BROWSER_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="browser check: run with FYGITAAL_BROWSER_TESTS=1 (as .ci/run does)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def is_postgresql(db_session: Session) -> bool:
    return db_session.get_bind().dialect.name == "postgresql"
