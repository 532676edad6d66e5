# Production image: gunicorn serving wsgi:app, PostgreSQL through LMS_DATABASE_URL.
FROM python:3.11-slim AS build
WORKDIR /app
RUN python -m venv /venv
ENV PATH=/venv/bin:$PATH
COPY pyproject.toml README.md ./
COPY lms ./lms
RUN pip install --no-cache-dir --upgrade pip && pip install --no-cache-dir . \
 && pybabel compile -d /venv/lib/python3.11/site-packages/lms/translations

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 lms
WORKDIR /app
COPY --from=build /venv /venv
COPY wsgi.py gunicorn.conf.py ./
COPY migrations ./migrations
COPY modules ./modules
COPY docker/entrypoint.sh /entrypoint.sh
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    LMS_ENV=production \
    LMS_MIGRATIONS_DIR=/app/migrations \
    LMS_MODULES_PATH=/app/modules
USER lms
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"
ENTRYPOINT ["/entrypoint.sh"]
