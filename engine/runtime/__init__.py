"""Running instances: the commands and what they need.

- :mod:`.commands` — :class:`~.commands.Runtime`, every command on an instance
  (start, complete, correlate, suspend, retry...), one transaction each;
- :mod:`.cache` — the parsed specs and live workflows kept between commands;
- :mod:`.store` — the instance's rows, read and written as Core statements
  (the projection of a workflow into task, history and wait tables);
- :mod:`.waits` — what an instance waits for (messages, signals, timers), as rows;
- :mod:`.routing` — delivering messages and signals to the instances that wait;
- :mod:`.service_call`, :mod:`.handlers` — the service-task contract and the
  registry of topic handlers; :mod:`.links` — the engine's own topics that start,
  hold and release other instances;
- :mod:`.data_stores` — BPMN data stores shared by all instances.
"""
