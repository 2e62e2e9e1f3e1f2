"""Exam preparation that adapts to each worker (issue 16): topic mastery from every graded answer,
mistakes reviewed on a spaced-repetition schedule, a plan to the exam date, readiness, and what an
office sees of its registrants. docs/EXAM_PREP.md explains each model."""
