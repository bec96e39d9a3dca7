"""Our own BPMN corpus: small Camunda 7 diagrams, each driven to its end (see README.md)."""
