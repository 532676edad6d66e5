"""Trainer dashboards: the progress matrix, a learner's history, cohorts, expiries, CSV."""
