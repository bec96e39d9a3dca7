"""sertiflow's workflow engine: BPMN deployments, instances, tasks and their history.

Nothing in this package imports flask, marshmallow or ``api``; the web layer
builds on the services defined here.
"""
