"""xAPI: statements for learning events, a transactional outbox, delivery to LRSs.

Features call ``xapi.record(xapi.LearningEvent(...))`` inside their own transaction;
the worker (``flask --app wsgi xapi worker``) delivers afterwards.
"""

from lms.xapi.events import Activity, Interaction, LearningEvent, Result, StatementError
from lms.xapi.services import record

__all__ = ["Activity", "Interaction", "LearningEvent", "Result", "StatementError", "record"]
