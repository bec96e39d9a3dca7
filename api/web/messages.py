"""Recording a message an instance waits for (a payment, a laboratory report, a letter).

Messages normally come from other systems through ``POST /api/v1/messages``.
When one does not (the bank's notice is missing, the laboratory sends its report
on paper), staff record it on the instance's page with the message's form: a
Camunda Form whose id is the message's name. The engine checks the values
against that form (``Services.send_message``), exactly as for the API, and only
staff may send messages there too.
"""

from __future__ import annotations

from typing import Any, cast

from flask import flash, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.composition import Services
from engine.errors import InvalidInput, NotFound
from engine.identity.access import Actor
from engine.models import ProcessInstance
from engine.tasks.taskforms import form_by_id

from . import bp, i18n
from .forms import sent_file, store_sent_file, viewer_schema
from .progress import message_labels, outlines_for
from .session import reading, writing


def awaited(services: Services, actor: Actor, instance_id: str, name: str) -> ProcessInstance:
    """The instance, if a staff member asks about a message it waits for; else 404."""
    instance = services.queries.instance(actor, instance_id)
    if actor.is_customer or name not in services.queries.awaited_messages(instance_id):
        raise NotFound(f"instance {instance_id} does not wait for message '{name}'")
    return instance


@bp.get("/instances/<instance_id>/messages/<name>")
def message_page(instance_id: str, name: str) -> ResponseReturnValue:
    with reading() as (services, actor):
        instance = awaited(services, actor, instance_id, name)
        form = form_by_id(services.session, name)
        variables = services.runtime.variables(instance)
        keys = form.field_keys() if form is not None else []
        # The title is the waiting event's name ("Pembayaran diterima"), not the
        # message's technical name.
        label = message_labels(outlines_for(services, instance).values()).get(name) or name
        return render_template(
            "message.html", instance=instance, name=name, label=label, form=form,
            form_schema=viewer_schema(form) if form is not None else None,
            data={k: variables[k] for k in keys if k in variables})


@bp.post("/instances/<instance_id>/messages/<name>")
def send_message(instance_id: str, name: str) -> ResponseReturnValue:
    """Record the message with the form's values (JSON, as the task page sends them)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("variables"), dict):
        raise InvalidInput("send {\"variables\": {...}}",
                           {"variables": "must be an object of field values"})
    with writing() as (services, actor):
        instance = awaited(services, actor, instance_id, name)
        label = message_labels(outlines_for(services, instance).values()).get(name) or name
        services.send_message(name, cast(dict[str, Any], body["variables"]),
                              instance_id=instance_id, actor=actor.username)
    flash(i18n.translate(i18n.current(), "message.sent", name=label), "ok")
    return jsonify(redirect=url_for("web.instance_page", instance_id=instance_id))


@bp.post("/instances/<instance_id>/messages/<name>/documents")
def message_upload(instance_id: str, name: str) -> ResponseReturnValue:
    """Upload a file for a message form's file field; answers the document reference."""
    upload = sent_file()
    with writing() as (services, actor):
        awaited(services, actor, instance_id, name)
        reference = store_sent_file(services, actor, upload, instance_id)
    return jsonify(reference), 201
