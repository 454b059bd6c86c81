# Commune procedures assistant. Build: docker build -t thutuc-bot .
# Run:   docker run --env-file .env -p 8080:8080 -v thutuc-data:/data thutuc-bot
# Editors keep the guides on the host: add -v "$PWD/knowledge:/app/knowledge" (live reload).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    BOT_DB=/data/bot.sqlite3 \
    KNOWLEDGE_DIR=/app/knowledge

RUN useradd --create-home --uid 10001 bot \
    && mkdir -p /data && chown bot:bot /data

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
CMD ["python", "-m", "bot", "run"]
