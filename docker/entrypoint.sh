#!/bin/sh
# Migrate the database, load the module packages, then hand the process to gunicorn.
set -e
flask --app wsgi db upgrade heads
if flask --app wsgi lms modules --help >/dev/null 2>&1; then
  flask --app wsgi lms modules sync
fi
exec gunicorn --config gunicorn.conf.py wsgi:app
