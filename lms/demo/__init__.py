"""Synthetic data at a training centre's scale, for benchmarks and demonstrations.

``flask --app wsgi lms demo-data`` (see ``cli``) fills a database with organisations,
staff, learners, cohorts, modules, learning records, practical sessions and xAPI
statements, written straight into the tables in bulk (``writer``), following the
rules the features apply when the same events happen one by one.
"""
