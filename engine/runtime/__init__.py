"""Running instances: the commands and what they need.

- :mod:`.commands` — :class:`~.commands.Runtime`, every command on an instance
  (start, complete, correlate, suspend, retry...), one transaction each;
- :mod:`.loading` — what a command reads and saves back: the instance's row,
  its definition's specs, its workflow (from :mod:`.cache` or the stored state);
- :mod:`.projection` — the outcome of a step as rows: tasks, waits, incidents,
  history; :mod:`.store` — those rows, read and written as Core statements;
- :mod:`.separation_of_duties` — who may not take a task because of what they did;
- :mod:`.cache` — the parsed specs and live workflows kept between commands;
- :mod:`.settings` — what the deployment decides about running instances;
- :mod:`.routing` — delivering messages and signals to the instances that wait;
- :mod:`.service_call`, :mod:`.handlers` — the service-task contract and the
  registry of topic handlers; :mod:`.links` — the engine's own topics that start,
  hold and release other instances;
- :mod:`.data_stores` — BPMN data stores shared by all instances;
- :mod:`.waits` — waits a request cannot afford, handed over to a thread.
"""
