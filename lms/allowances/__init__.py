"""Certificate allowances and one-time rewards (职业津贴与一次性奖励): policy versions per org unit, inherited down
the tree; awards from office-verified certificates; the monthly roster, closing and export. docs/ALLOWANCES.md."""
