"""Deploying BPMN and form files: checked as one deployment, versioned, stored.

The checks of a diagram itself are the adapter's (:mod:`engine.bpmn.validation`);
:mod:`.service` adds what needs the database and the loaded topics.
"""
