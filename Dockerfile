# SixBTC: one image for the API and the live runner (docker-compose.yml runs both beside PostgreSQL).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

RUN useradd --create-home --uid 1000 sixbtc
COPY pyproject.toml README.md ./
COPY domain domain
COPY application application
COPY adapters adapters
COPY entrypoints entrypoints
COPY migrations migrations
COPY config config
COPY examples examples
COPY alembic.ini ./
RUN pip install --prefer-binary . && mkdir -p /app/var /app/logs /app/data && chown -R sixbtc /app/var /app/logs /app/data

USER sixbtc
EXPOSE 8000
# Liveness of whichever process runs here: the API on 8000, or the runner's health port on 8080.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen(os.environ.get('SIXBTC_HEALTH_URL', 'http://127.0.0.1:8000/health'), timeout=4)"
CMD ["sixbtc", "api", "--host", "0.0.0.0", "--port", "8000"]
