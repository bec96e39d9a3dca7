"""User tasks and their forms.

- :mod:`.assignment` — who may act on a new task, when it is due, which form it shows;
- :mod:`.forms` — deployed Camunda Forms, looked up by id or file name;
- :mod:`.taskforms` — the form of a task or message, and the check of a submission;
- :mod:`.form_validation` — reading a form's fields and cleaning submitted values.
"""
