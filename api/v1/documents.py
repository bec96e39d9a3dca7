"""Documents of an instance: list and download.

A customer sees only the documents the extension's visibility table gives them
(and their own uploads); asking for another is answered 404, as for a document
that does not exist, so its existence does not leak.
"""

from __future__ import annotations

from typing import Any

from flask import Response, send_file

from engine.composition import Services
from engine.identity.access import Actor

from .. import schemas
from ..context import query
from .common import blueprint, documented, page_dict

bp = blueprint("documents", "", "Documents uploaded to instances")
# What a browser shows itself: PDFs and images (no SVG: it could carry script).
INLINE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/webp"})


@bp.route("/process-instances/<instance_id>/documents", methods=["GET"])
@bp.arguments(schemas.Paging, location="query")
@bp.response(200, schemas.page_of(schemas.Document, "DocumentPage"))
@documented(bp, 401, 404, 422)
def list_documents(args: dict[str, Any], instance_id: str) -> Any:
    """List the documents of an instance you may see, oldest first."""
    with query() as (services, actor):
        services.queries.instance(actor, instance_id)
        documents = services.documents.visible_to(
            actor, services.documents.list_for_instance(instance_id))
        return page_dict(services.queries.paginate(documents, args["page"], args["per_page"]))


@bp.route("/documents/<document_id>", methods=["GET"])
@bp.response(200, {"type": "string", "format": "binary"}, content_type="*/*",
             description="the file, with the media type it was accepted as (PDF, an image, "
                         "an Office document, text); the documents the server makes itself "
                         "(letters, certificates, bills) are PDF",
             headers={"Content-Disposition": {
                 "description": "inline for a PDF or an image (the browser shows it), "
                                "attachment for other types; with the file's name",
                 "schema": {"type": "string"}},
                 "Content-Security-Policy": {
                     "description": "sandbox: a document runs no script in our origin",
                     "schema": {"type": "string"}}})
@documented(bp, 401, 404)
def download(document_id: str) -> Any:
    """Download a document; whoever may see its instance and the document may."""
    with query() as (services, actor):
        return send_document(services, actor, document_id)


def send_document(services: Services, actor: Actor, document_id: str) -> Response:
    """The download of a document for whoever may see its instance and the document
    (404 for others)."""
    document = services.documents.get(document_id)
    services.queries.instance(actor, document.instance_id)
    document = services.documents.get_for(actor, document_id)
    stream = services.documents.open(document)
    shown = document.content_type in INLINE_TYPES
    response = send_file(stream, mimetype=document.content_type, as_attachment=True,
                         download_name=document.name, max_age=0)
    if shown:
        # send_file names (and encodes the name of) attachments only; an inline file
        # keeps its name for "Save as".
        disposition = response.headers["Content-Disposition"]
        response.headers["Content-Disposition"] = "inline" + disposition.removeprefix(
            "attachment")
    # A document opened from here must not run script in our origin (older generated
    # letters are HTML), and no browser may guess another type. Chromium's PDF viewer
    # shows a PDF inline in the sandbox too.
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
