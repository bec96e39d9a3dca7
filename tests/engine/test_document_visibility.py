"""Which documents a customer sees: the visibility table, a customer's own uploads, staff.

A real database and file store; the table is given here, not the LSPro's, so the
engine's rule is tested on its own (tests/web/test_customer_view.py tests the
LSPro's table through the pages and the REST API).
"""

from __future__ import annotations

import io

import pytest

from engine.composition import Engine
from engine.documents.service import DocumentService
from engine.documents.visibility import CUSTOMER, INTERNAL, VisibilityTable, refers_to
from engine.errors import NotFound
from engine.extensions import Setup
from engine.identity.access import Actor
from engine.models import Document
from engine.runtime.handlers import TopicRegistry
from tests.builders import linear_user_tasks
from tests.people import PASSWORD

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
TABLE = VisibilityTable({"dok_surat": CUSTOMER, "dok_kertas_kerja": INTERNAL}, INTERNAL)
CUSTOMER_ACTOR = Actor.of("cust", ["pelanggan"], "PT Satu")
STAFF = Actor.of("staf", ["auditor"])


def documents(engine: Engine) -> dict[str, Document]:
    """One document of each case, by a name saying which."""
    with engine.write() as s:
        s.deployments.deploy([("linear.bpmn", linear_user_tasks("linear", 1).encode())])
    with engine.write() as s:
        s.identity.add_user("cust", PASSWORD, roles=["pelanggan"], company="PT Satu")
        s.identity.add_user("staf", PASSWORD, roles=["auditor"])
        instance_id = s.runtime.start_instance("linear", actor="cust", company="PT Satu").id
    made: dict[str, Document] = {}
    with engine.write() as s:
        for name, field, by in (("letter", "dok_surat", "staf"),
                                ("papers", "dok_kertas_kerja", "staf"),
                                ("unnamed_kind", "dok_lain", "staf"),
                                ("own_upload", "dok_kertas_kerja", "cust"),
                                ("no_field", None, "staf")):
            made[name] = s.documents.upload(
                instance_id, io.BytesIO(PDF + name.encode()), filename=f"{name}.pdf",
                content_type="application/pdf", uploaded_by=by, field=field)
    return made


def service(engine: Engine, session: object) -> DocumentService:
    return DocumentService(session, engine.clock, engine.file_store,  # type: ignore[arg-type]
                           max_bytes=1_000_000, visibility=TABLE)


def test_a_customer_sees_customer_kinds_and_their_own_uploads_staff_see_all(
        engine: Engine) -> None:
    made = documents(engine)
    every = list(made.values())
    with engine.read() as s:
        docs = service(engine, s.session)
        seen = {d.id for d in docs.visible_to(CUSTOMER_ACTOR, every)}
        assert seen == {made["letter"].id, made["own_upload"].id}
        assert docs.visible_to(STAFF, every) == every
        assert docs.get_for(CUSTOMER_ACTOR, made["letter"].id).id == made["letter"].id
        for hidden in ("papers", "unnamed_kind", "no_field"):
            with pytest.raises(NotFound) as refused:
                docs.get_for(CUSTOMER_ACTOR, made[hidden].id)
            # Told as for a document that does not exist: existence does not leak.
            assert str(refused.value) == f"no document {made[hidden].id}"
        assert docs.get_for(STAFF, made["papers"].id).id == made["papers"].id


def test_without_a_table_every_document_is_the_customers() -> None:
    assert VisibilityTable().of("dok_anything") == CUSTOMER
    assert VisibilityTable().of(None) == CUSTOMER
    assert TABLE.of(None) == INTERNAL and TABLE.of("dok_surat") == CUSTOMER


def test_the_table_refuses_unknown_visibilities_and_merges_calls() -> None:
    with pytest.raises(ValueError, match="unknown document visibility secret"):
        VisibilityTable({"dok_x": "secret"})
    setup = Setup(settings=None, topic_registry=TopicRegistry())  # type: ignore[arg-type]
    assert setup.visibility.of("dok_x") == CUSTOMER  # nothing registered
    setup.document_visibility({"dok_x": CUSTOMER})
    setup.document_visibility({"dok_y": CUSTOMER}, default=INTERNAL)
    assert (setup.visibility.of("dok_x"), setup.visibility.of("dok_y"),
            setup.visibility.of("dok_z")) == (CUSTOMER, CUSTOMER, INTERNAL)


def test_references_to_documents_are_recognised_in_any_shape() -> None:
    ids = {"a"}
    assert refers_to("a", ids) and refers_to({"id": "a", "name": "x"}, ids)
    assert refers_to([{"id": "b"}, {"id": "a"}], ids)
    assert not refers_to("b", ids) and not refers_to({"name": "a"}, ids)
    assert not refers_to(3, ids) and not refers_to(None, ids)
