"""Analysts' Python (script tasks and expressions), run so that it can harm nothing.

Process analysts, not developers, write the scripts and conditions, and a
customer chooses the data they run on, so both are untrusted. The layers:

1. :mod:`.restricted` checks the syntax tree (no imports, no underscore
   attributes, no frames, no ``str.format``...) and rewrites it: risky
   operators call size guards, loops and functions pass deadline checkpoints.
2. :mod:`.guards` holds those guards and the only builtins code may use.
3. :mod:`.isolation` decides where code runs: plain expressions in the engine's
   process; scripts and all other expressions in a child process forked for
   that one run (:mod:`.zygote`), killed at its deadline, limited in memory,
   sharing nothing with other runs.
4. :mod:`.values` lets only process data cross back: what a script leaves in a
   variable must be JSON-like data or a date, or the script fails naming it.
"""

from .errors import (
    SandboxViolation,
    ScriptError,
    ScriptMemoryError,
    ScriptTimeout,
    UnstorableValue,
)
from .isolation import DEFAULT_MEMORY_MB, Sandbox, evaluate, run_script
from .local import DEFAULT_TIMEOUT
from .restricted import check, check_script, compile_restricted
from .values import check_storable

__all__ = [
    "DEFAULT_MEMORY_MB",
    "DEFAULT_TIMEOUT",
    "Sandbox",
    "SandboxViolation",
    "ScriptError",
    "ScriptMemoryError",
    "ScriptTimeout",
    "UnstorableValue",
    "check",
    "check_script",
    "check_storable",
    "compile_restricted",
    "evaluate",
    "run_script",
]
