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
                         "an Office document, text) or, for a letter the server made "
                         "itself, text/html",
             headers={"Content-Disposition": {
                 "description": "attachment, with the file's name",
                 "schema": {"type": "string"}},
                 "Content-Security-Policy": {
                     "description": "sandbox: a generated HTML letter runs no script",
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
    response = send_file(stream, mimetype=document.content_type, as_attachment=True,
                         download_name=document.name, max_age=0)
    # Generated letters are HTML: opened from the download, they must not run
    # script or reach our origin, and no browser may guess another type.
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
