"""``historyTimeToLive`` in /engine-rest's process-definition shapes, as the Modeler reads it."""

from __future__ import annotations

import requests

from tests.api.test_engine_rest import BASIC, ORDER, deployed_one, modeler_deploy

WITH_TTL = ORDER.replace('isExecutable="true"',
                         'isExecutable="true" camunda:historyTimeToLive="P180D"', 1)


def test_the_definitions_ttl_is_answered_in_days(server: str) -> None:
    definition = deployed_one(modeler_deploy(server, "order.bpmn", WITH_TTL))
    assert definition["historyTimeToLive"] == 180

    by_id = requests.get(f"{server}/engine-rest/process-definition/{definition['id']}",
                         auth=BASIC, timeout=30)
    by_key = requests.get(f"{server}/engine-rest/process-definition/key/order", auth=BASIC,
                          timeout=30)
    assert by_id.json()["historyTimeToLive"] == by_key.json()["historyTimeToLive"] == 180

    # A version without one answers null, as Camunda does; the list shows each version's.
    deployed_one(modeler_deploy(server, "order.bpmn", ORDER))
    listed = requests.get(f"{server}/engine-rest/process-definition", params={"key": "order"},
                          auth=BASIC, timeout=30).json()
    assert [(d["version"], d["historyTimeToLive"]) for d in listed] == [(1, 180), (2, None)]


def test_a_ttl_in_months_is_refused_naming_the_process(server: str) -> None:
    answer = modeler_deploy(server, "order.bpmn", WITH_TTL.replace("P180D", "P6M"))
    assert answer.status_code == 400, answer.text
    message = answer.json()["message"]
    assert "(element 'order')" in message
    assert 'history time to live "P6M" is not a number of days' in message
