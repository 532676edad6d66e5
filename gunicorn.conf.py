"""gunicorn settings for production (the Dockerfile's entry point uses them)."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
# The application is loaded once, in the master, and each worker is a fork of it: a
# worker restarted after max_requests is serving within milliseconds instead of
# importing and configuring everything again (about 2 s of a core), and the workers
# share the loaded code's memory. Each worker opens its own database connections
# (lms.create_app drops pooled connections in a forked child).
preload_app = True
accesslog = "-"
errorlog = "-"
# Behind a load balancer that sets X-Forwarded-For / -Proto:
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
