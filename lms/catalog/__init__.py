"""Theory modules: package format, validation, loading (sync) and the lesson pages.

Pure parts (no Flask, no database): ``sourcetext`` (YAML with line numbers),
``schema`` and ``questions`` (validation), ``render`` (Markdown to safe HTML) and
``package`` (reading a package folder). ``sync`` writes validated packages to the
database; ``services`` holds the learner-facing rules.
"""
