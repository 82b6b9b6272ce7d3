"""Reports built from an evaluation: JSON, HTML, SARIF, Markdown summary and living docs."""
