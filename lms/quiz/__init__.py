"""Quizzes: question types, the draw, attempts and grading.

Pure logic (``grading``, ``responses``, ``draw``, ``rules``) takes plain values and is
tested without a database; ``services`` holds the attempt rules and writes.
"""
