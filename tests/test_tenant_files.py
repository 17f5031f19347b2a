"""`fygitaal tenants apply`: idempotent, all or nothing, and errors that name file, field and fix."""

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.tenancy.isolation import set_tenant
from core.tenancy.models import Department, Tenant

REPO_TENANTS = Path(__file__).resolve().parent.parent / "tenants"


@pytest.fixture
def tenants_dir(tmp_path):
    """A copy of the demo municipalities' files that a test may change."""
    target = tmp_path / "tenants"
    shutil.copytree(REPO_TENANTS, target)
    return target


def count_tenants(db_session):
    return db_session.scalar(select(func.count()).select_from(Tenant))


def test_apply_creates_then_reports_unchanged(runner, tenants_dir):
    first = runner.invoke(args=["tenants", "apply", str(tenants_dir)])
    assert first.exit_code == 0, first.output
    assert "lochristi: created" in first.output
    assert "wachtebeke: created" in first.output
    second = runner.invoke(args=["tenants", "apply", str(tenants_dir)])
    assert second.exit_code == 0
    assert second.output.count("unchanged") == 4


def test_apply_reports_updated_and_changes_the_tenant(runner, tenants_dir, db_session):
    runner.invoke(args=["tenants", "apply", str(tenants_dir)])
    path = tenants_dir / "moerbeke.toml"
    path.write_text(path.read_text().replace('name = "Moerbeke"', 'name = "Moerbeke-Waas"'))
    result = runner.invoke(args=["tenants", "apply", str(tenants_dir)])
    assert "moerbeke: updated" in result.output
    assert "lochristi: unchanged" in result.output
    moerbeke = db_session.scalar(select(Tenant).where(Tenant.slug == "moerbeke"))
    assert moerbeke.name == "Moerbeke-Waas"
    assert moerbeke.config_version == 2


def test_departments_follow_the_file(runner, tenants_dir, db_session):
    runner.invoke(args=["tenants", "apply", str(tenants_dir)])
    path = tenants_dir / "wachtebeke.toml"
    path.write_text(path.read_text() + '\n[[departments]]\ncode = "groen"\nname = "Groendienst"\n')
    assert "wachtebeke: updated" in runner.invoke(args=["tenants", "apply", str(tenants_dir)]).output
    wachtebeke = db_session.scalar(select(Tenant).where(Tenant.slug == "wachtebeke"))
    set_tenant(db_session, wachtebeke.id)
    codes = db_session.scalars(select(Department.code).order_by(Department.code)).all()
    assert codes == ["burgerzaken", "groen", "milieu", "openbare_werken"]


def test_tenants_list_json(runner, tenants_dir):
    runner.invoke(args=["tenants", "apply", str(tenants_dir)])
    result = runner.invoke(args=["tenants", "list", "--json"])
    rows = json.loads(result.output)
    assert [r["slug"] for r in rows] == ["destelbergen", "lochristi", "moerbeke", "wachtebeke"]
    lochristi = rows[1]
    assert lochristi["nis_code"] == "44034"
    assert lochristi["region"] == "veneco"
    assert lochristi["plugins"] == ["grofvuil", "openbare_ruimte"]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new))


BAD_FILES = [
    ("moerbeke.toml", 'nis_code = "44045"', 'nis_code = "4404"', ["moerbeke.toml", "nis_code", "5-digit"]),
    ("moerbeke.toml", 'languages = ["nl"]', "languages = []", ["moerbeke.toml", "languages", "at least one"]),
    ("moerbeke.toml", 'slug = "moerbeke"', 'slug = "moerbeek"', ["moerbeke.toml", "slug", "rename the file"]),
    ("moerbeke.toml", 'boundary = "boundaries/moerbeke.geojson"', 'boundary = "nergens.geojson"',
     ["moerbeke.toml", "boundary", "not found"]),
    ("moerbeke.toml", 'name = "Moerbeke"\n', "", ["moerbeke.toml", "name", "Missing data"]),
    ("moerbeke.toml", 'provider = "platform"', 'provider = "oidc"', ["moerbeke.toml", "identity", "issuer"]),
    ("moerbeke.toml", 'nis_code = "44045"', 'nis_code = "44034"', ["moerbeke.toml", "nis_code", "already used"]),
    ("moerbeke.toml", 'slug = "moerbeke"', 'slug = "moerbeke', ["moerbeke.toml", "not valid TOML"]),
    ("moerbeke.toml", "[region]", '[plugins.bestaatniet]\n[region]',
     ["moerbeke.toml", "bestaatniet", "not installed"]),
    ("lochristi.toml", "max_items = 5", 'max_items = "veel"', ["lochristi.toml", "plugins.grofvuil.max_items"]),
    ("moerbeke.toml", "[region]", "[plugins.grofvuil]\n[region]",
     ["moerbeke.toml", "plugin 'grofvuil' is pilot-only; add moerbeke to its pilot tenants or remove it"]),
    ("destelbergen.toml", 'legal_basis = "toestemming"', 'legal_basis = "goesting"',
     ["destelbergen.toml", "purposes.0.legal_basis", "Must be one of"]),
    ("destelbergen.toml", 'title = { nl = "De gemeentelijke nieuwsbrief", ', "title = { ",
     ["destelbergen.toml", "purposes.0.title", "Dutch text (nl)"]),
    ("destelbergen.toml", 'code = "nieuwsbrief"', 'code = "contact_email"',
     ["destelbergen.toml", "purposes.0.code", "is a core purpose"]),
    ("moerbeke.toml", 'nis_code = "44045"', 'nis_code = "44045"\narchive_days = 100',
     ["moerbeke.toml", "field 'archive_days'", "from 365 (1 year) to 36500 (100 years)"]),
]


@pytest.mark.parametrize(("filename", "old", "new", "expected"), BAD_FILES)
def test_an_invalid_file_is_refused_and_nothing_is_applied(
    runner, tenants_dir, db_session, filename, old, new, expected
):
    edit(tenants_dir / filename, old, new)
    result = runner.invoke(args=["tenants", "apply", str(tenants_dir)])
    assert result.exit_code == 1
    assert "nothing was applied" in result.output
    for fragment in expected:
        assert fragment in result.output
    assert count_tenants(db_session) == 0


def test_an_invalid_change_leaves_the_applied_tenants_as_they_were(runner, tenants_dir, db_session):
    runner.invoke(args=["tenants", "apply", str(tenants_dir)])
    edit(tenants_dir / "destelbergen.toml", 'name = "Destelbergen"', 'name = "Nieuw"')
    edit(tenants_dir / "moerbeke.toml", 'nis_code = "44045"', 'nis_code = "x"')
    result = runner.invoke(args=["tenants", "apply", str(tenants_dir)])
    assert result.exit_code == 1
    names = db_session.scalars(select(Tenant.name).order_by(Tenant.slug)).all()
    assert names == ["Destelbergen", "Lochristi", "Moerbeke", "Wachtebeke"]


def test_an_empty_or_missing_directory_is_a_clear_error(runner, tmp_path):
    result = runner.invoke(args=["tenants", "apply", str(tmp_path)])
    assert result.exit_code == 1
    assert "no *.toml tenant files found" in result.output
    result = runner.invoke(args=["tenants", "apply", str(tmp_path / "nope")])
    assert "not a directory" in result.output
