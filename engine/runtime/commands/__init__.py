"""The commands on process instances, behind one face: :class:`Runtime`.

- :mod:`.runtime` — :class:`Runtime`: every command as a method, one transaction
  each, and the path they all end on (run on, project, save, deferred effects);
- :mod:`.instances` — start, set variables, suspend, resume, cancel, retry;
- :mod:`.tasks` — complete, claim, assign and unclaim a user task;
- :mod:`.events` — messages, signals and conditional starts;
- :mod:`.timers` — firing due timers and timer start events;
- :mod:`.variables` — what variables a command may bring.
"""

from engine.runtime.commands.runtime import Runtime
from engine.runtime.commands.tasks import Completion
from engine.runtime.commands.variables import check_variables
from engine.runtime.settings import RuntimeSettings

__all__ = ["Completion", "Runtime", "RuntimeSettings", "check_variables"]
