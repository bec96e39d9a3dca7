"""The SpiffWorkflow adapter: the only package of sertiflow that imports SpiffWorkflow."""
