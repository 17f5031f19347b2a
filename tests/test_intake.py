"""The intake service: every check, one store, honest numbering, duplicates, photos without GPS."""

import io
from datetime import UTC, datetime

import pytest
from PIL import Image
from sqlalchemy import func, select

from core.cases.intake import IntakeError, IntakeRequest, case_by_token, nearby_open_cases, submit_case
from core.cases.models import Attachment, Case, CaseEvent
from core.outbox.models import OutboxMessage
from core.storage import storage
from core.tenancy.isolation import set_tenant
from core.tenancy.models import Department

AT = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
INSIDE = (51.10, 3.82)  # inside the test kit's square
OUTSIDE = (50.85, 4.35)  # Brussels


@pytest.fixture
def town(app, db_session, make_tenant, request):
    tenant = make_tenant("gemeente-a", plugins={"openbare_ruimte": {}})
    set_tenant(db_session, tenant.id)
    for code, name in (("milieu", "Milieu"), ("openbare_werken", "Openbare werken"), ("burgerzaken", "Burgerzaken")):
        db_session.add(Department(code=code, name=name))
    db_session.flush()
    return tenant


def submit(db_session, tenant, **fields):
    values = {"type_code": "zwerfvuil", "description": "Blikjes langs de Dorpsstraat", "lat": INSIDE[0],
              "lon": INSIDE[1], **fields}
    return submit_case(db_session, tenant, IntakeRequest(**values), channel=fields.pop("channel", "web"),
                       actor="burger", at=AT)


def count(db_session, model):
    return db_session.scalar(select(func.count()).select_from(model))


def test_a_report_is_stored_routed_numbered_and_confirmed(app, db_session, town):
    with app.test_request_context():
        result = submit(db_session, town, reporter_email="an@example.be", reporter_name="An")
    case = result.case
    assert case.reference == "ZV-2026-00001"
    assert case.department.code == "milieu"
    assert case.status == "nieuw" and case.channel == "web" and case.kind == "melding"
    assert case_by_token(db_session, result.follow_token).id == case.id
    assert case.follow_token_hash != result.follow_token
    assert [e.kind for e in db_session.scalars(select(CaseEvent))] == ["created"]
    mail = db_session.scalars(select(OutboxMessage)).one()
    assert mail.channel == "e-mail" and mail.recipient == "an@example.be"
    assert "ZV-2026-00001" in mail.subject and result.follow_token in mail.body
    with app.test_request_context():
        assert submit(db_session, town).case.reference == "ZV-2026-00002"


def test_a_question_goes_to_burgerzaken_and_needs_a_way_to_answer(app, db_session, town):
    with app.test_request_context():
        with pytest.raises(IntakeError) as refused:
            submit(db_session, town, type_code="vraag", lat=None, lon=None)
        assert "contact" in refused.value.errors
        case = submit(db_session, town, type_code="vraag", lat=None, lon=None, reporter_phone="09 123 45 67").case
    assert case.reference.startswith("VR-2026-") and case.department.code == "burgerzaken"


def typo_photo():
    return b"not an image at all"


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), "green")
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (51.0, 5.0, 30.0), 3: "E", 4: (3.0, 49.0, 10.0)}  # GPSInfo
    exif[0x010F] = "Telefoonmerk"  # Make
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


BAD = [
    ({"type_code": "bestaatniet"}, "type"),
    ({"type_code": "sluikstort"}, "data.volume"),
    ({"type_code": "sluikstort", "data": {"volume": 3}}, "data.volume"),
    ({"type_code": "wegdek", "data": {"gevaarlijk": "misschien"}}, "data.gevaarlijk"),
    ({"lat": OUTSIDE[0], "lon": OUTSIDE[1]}, "location"),
    ({"lat": 123.0, "lon": 3.8}, "location"),
    ({"lat": None, "lon": None}, "location"),
    ({"description": "x" * 4001}, "description"),
    ({"description": "   "}, "description"),
    ({"reporter_email": "geen-adres"}, "email"),
    ({"photos": [typo_photo()]}, "photos"),
    ({"preferred_channel": "brief"}, "address"),
]


@pytest.mark.parametrize(("fields", "field"), BAD)
def test_bad_input_is_refused_with_a_clear_error_and_nothing_stored(app, db_session, town, fields, field):
    with app.test_request_context(), pytest.raises(IntakeError) as refused:
        submit(db_session, town, **fields)
    assert field in refused.value.errors, refused.value.errors
    assert all(refused.value.errors[field])
    for model in (Case, CaseEvent, Attachment, OutboxMessage):
        assert count(db_session, model) == 0


def test_a_photo_over_the_limit_is_refused(app, db_session, town):
    app.config["MAX_PHOTO_BYTES"], limit = 1000, app.config["MAX_PHOTO_BYTES"]
    try:
        with app.test_request_context(), pytest.raises(IntakeError) as refused:
            submit(db_session, town, photos=[jpeg_with_gps() + b"\0" * 1000])
    finally:
        app.config["MAX_PHOTO_BYTES"] = limit
    assert "hoogstens" in refused.value.errors["photos"][0]
    assert count(db_session, Attachment) == 0


def test_a_photo_with_gps_comes_out_without_it(app, db_session, town):
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get(0x8825), "the test photo carries GPS"
    with app.test_request_context():
        case = submit(db_session, town, photos=[original]).case
        attachment = db_session.scalars(select(Attachment).where(Attachment.case_id == case.id)).one()
        stored = storage().get(attachment.storage_key)
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG" and image.size == (64, 48)
    assert not image.getexif(), "no EXIF at all: no GPS, no camera"
    assert b"Telefoonmerk" not in stored


def test_open_reports_nearby_are_found_as_duplicates(app, db_session, town):
    with app.test_request_context():
        first = submit(db_session, town).case
        submit(db_session, town, type_code="groen")
        far = submit(db_session, town, lat=INSIDE[0] + 0.01).case
    near = nearby_open_cases(db_session, "zwerfvuil", INSIDE[0] + 0.0002, INSIDE[1], 50)
    assert [c.id for c, _d in near] == [first.id]
    assert far.id not in [c.id for c, _d in nearby_open_cases(db_session, "zwerfvuil", *INSIDE, 100)]


def test_a_forged_follow_up_token_finds_nothing(app, db_session, town):
    with app.test_request_context():
        submit(db_session, town)
    assert case_by_token(db_session, "vervalst") is None
    assert case_by_token(db_session, "") is None
