# Commune procedures assistant. Build: docker build -t thutuc-bot .
# Run:   docker run --env-file .env -p 8080:8080 -v thutuc-data:/data thutuc-bot
# Editors keep the guides on the host: add -v "$PWD/knowledge:/app/knowledge" (live reload).
# Bind-mounted guides belong to the host's user, so /themcau and knowledge/edit-log.jsonl need
# the container to run as that user: add --user "$(id -u):$(id -g)" (and give that user the
# data volume, e.g. a bind mount it owns), or make the folder writable for uid 10001.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    BOT_DB=/data/bot.sqlite3 \
    KNOWLEDGE_DIR=/app/knowledge \
    HEALTHZ_ALWAYS=true

RUN useradd --create-home --uid 10001 bot \
    && mkdir -p /data && chown bot:bot /data && chmod 0700 /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY knowledge ./knowledge
COPY flows ./flows
RUN pip install --no-cache-dir .

RUN chown -R bot:bot /app/knowledge
USER bot
VOLUME ["/data"]
EXPOSE 8080
# /healthz answers 503 when a channel has stalled (no successful poll, Zalo processing stopped)
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('HTTP_PORT', '8080'), timeout=4)"]
CMD ["python", "-m", "bot", "run"]
