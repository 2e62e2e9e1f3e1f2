"""评估与需求调研: class evaluations after a training class, and training-needs surveys (docs/SURVEYS.md)."""
