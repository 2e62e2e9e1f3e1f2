"""Progress toward the qualification (DESIGN.md §5): which passes are still valid under the
carry-over rules, and which subjects remain. A pure function over plain values."""
from dataclasses import dataclass, field

# Years within which all subjects of a level must be passed (consecutive exam years). Data:
# the lead of the exam rules may change it in config (CERT_CARRY_OVER_YEARS).
DEFAULT_CARRY_OVER = {"junior": 1, "intermediate": 2, "senior": 1}


@dataclass
class LevelProgress:
    level: str
    subjects: list[str]                      # subject codes of the level
    valid: dict[str, int] = field(default_factory=dict)    # subject → year of the pass that still counts
    expired: dict[str, int] = field(default_factory=dict)  # subject → year of a pass that no longer counts
    remaining: list[str] = field(default_factory=list)
    achieved_year: int | None = None         # the year the whole level was passed, if it was
    carry_over: int = 1                      # consecutive exam years within which all subjects must pass
    # The exam years in which the remaining subjects must be passed to combine with the passes
    # still valid; None when nothing counts yet (then any `carry_over` consecutive years will do).
    window: tuple[int, int] | None = None

    def valid_until(self, subject: str) -> int | None:
        """The last exam year with which this subject's valid pass can still be combined."""
        year = self.valid.get(subject)
        return None if year is None else year + self.carry_over - 1


def level_progress(level: str, subjects: list[str], passes: list[tuple[str, int]], this_year: int,
                   carry_over: int) -> LevelProgress:
    """`passes`: (subject code, exam year) of every real pass. A level is achieved when every
    subject was passed within `carry_over` consecutive exam years."""
    years = sorted({y for s, y in passes if s in subjects})
    progress = LevelProgress(level=level, subjects=subjects, carry_over=carry_over)
    for end in years:
        start = end - carry_over + 1
        inside = {s for s, y in passes if s in subjects and start <= y <= end}
        if set(subjects) <= inside:
            progress.achieved_year = end
    first_year = this_year - carry_over + 1
    for subject in subjects:
        years_passed = [y for s, y in passes if s == subject]
        current = [y for y in years_passed if first_year <= y <= this_year]
        if current:
            progress.valid[subject] = max(current)
        elif years_passed:
            progress.expired[subject] = max(years_passed)
    progress.remaining = [s for s in subjects if s not in progress.valid]
    if progress.valid:
        progress.window = (this_year, min(progress.valid.values()) + carry_over - 1)
    return progress
