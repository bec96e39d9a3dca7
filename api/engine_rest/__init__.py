"""The part of Camunda 7's REST API that Camunda Modeler uses, at ``/engine-rest``.

The Modeler's "Deploy current diagram" and "Start current diagram" speak to a
Camunda 7 engine: a version and connection check, ``deployment/create`` and
``process-definition/{id}/start``. This blueprint answers them in Camunda's
shapes and hands the work to sertiflow's own services (the same deployment and
start as ``/api/v1``). Errors here are Camunda's ``{"type", "message"}`` in
``application/json``, not problem+json, because that is what the Modeler reads.

It is a plain Flask blueprint, so none of it appears in the ``/api/v1`` OpenAPI
document. Credentials: HTTP Basic (a sertiflow user name and password, with the
sign-in rate limit) or a sertiflow bearer token; without either the answer is 401.

- :mod:`.blueprint`: the blueprint, its error handlers, the version check;
- :mod:`.deployments`, :mod:`.definitions`, :mod:`.instances`, :mod:`.events`:
  the routes, by Camunda resource;
- :mod:`.auth`: credentials and the request's transaction;
- :mod:`.errors`: Camunda's error answers;
- :mod:`.shapes`: Camunda's JSON shapes of sertiflow's rows;
- :mod:`.variables`: Camunda's typed variables;
- :mod:`.arguments`: paging arguments and the JSON body.
"""

from __future__ import annotations

# Importing the route modules adds their routes to the blueprint.
from . import definitions, deployments, events, instances  # noqa: F401
from .blueprint import bp

__all__ = ["bp"]
