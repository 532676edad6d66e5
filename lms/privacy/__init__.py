"""Privacy (GDPR): a person downloads their data; an admin pseudonymises a former learner.

Like the dashboard, this package reads from every feature; the features know nothing
of it.
"""
