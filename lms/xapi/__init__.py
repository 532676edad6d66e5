"""xAPI: statements for learning events, a transactional outbox, delivery to LRSs.

Features call ``xapi.record(xapi.LearningEvent(...))`` (or ``xapi.record_many`` for
several events of one action) inside their own transaction; the worker
(``flask --app wsgi xapi worker``) delivers afterwards.
"""

from lms.xapi.events import Activity, Interaction, LearningEvent, Result, StatementError
from lms.xapi.services import record, record_many

__all__ = [
    "Activity",
    "Interaction",
    "LearningEvent",
    "Result",
    "StatementError",
    "record",
    "record_many",
]
