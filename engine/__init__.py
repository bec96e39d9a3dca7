"""sertiflow's workflow engine: a generic BPMN service on SpiffWorkflow.

It knows no organisation: what one brings (its topics, tables, roles, pages)
plugs in as an extension (:mod:`engine.extensions`). Nothing in this package
imports flask, marshmallow, ``api`` or an extension; the web layer builds on the
services defined here. The folders, and which way the imports go, are in
README.md (Architecture).
"""
