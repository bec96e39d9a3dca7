"""User tasks and their forms.

- :mod:`.assignment` — who may act on a new task, when it is due, which form it shows;
- :mod:`.forms` — deployed Camunda Forms, looked up by id or file name;
- :mod:`.taskforms` — the form of a task or message, and the check of a submission;
- :mod:`.form_fields` — the rules of one input field, whichever form they came from;
- :mod:`.camunda_form_fields` — reading a Camunda Form (form-js JSON) into field rules;
- :mod:`.formdata_fields` — reading generated ``camunda:formData`` fields into field rules;
- :mod:`.form_submission` — checking a submission against its form, the variables to store;
- :mod:`.field_values` — checking and coercing one submitted value to its field's type.
"""
