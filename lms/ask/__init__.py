"""请教一下: workers' questions to experts and trainers, routed by the office in scope, answered in
Markdown, and kept as a searchable public library (issue 17, point 1)."""
