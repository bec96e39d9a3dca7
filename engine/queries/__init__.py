"""The read side, with the access rules applied; nothing here loads a workflow.

- :mod:`.lists` — task and instance lists, one task or instance, paging;
- :mod:`.history` — an instance's history as people read it;
- :mod:`.monitoring` — the administrators' dashboard figures.
"""
