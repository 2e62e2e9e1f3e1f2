"""题库 and mock exams: the question bank, its interchange formats, grading (DESIGN.md §2, §5)."""
