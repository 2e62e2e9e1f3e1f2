"""Statistics for training offices: dashboard, continuing education, workforce profile, exports."""
