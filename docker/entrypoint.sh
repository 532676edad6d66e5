#!/bin/sh
# Migrate the database, load the module packages, then hand the process to gunicorn; or,
# given arguments, to that command of the app (a worker), e.g.
#   docker run lms xapi worker
#   docker run lms lms lti scores send --loop
#   docker run lms lms cmi5 deliver --watch
set -e
flask --app wsgi db upgrade heads
if [ "$#" -gt 0 ]; then
  exec flask --app wsgi "$@"
fi
if flask --app wsgi lms modules --help >/dev/null 2>&1; then
  flask --app wsgi lms modules sync
fi
exec gunicorn --config gunicorn.conf.py wsgi:app
