# A slim, non-root image of the server. Settings come from TICKETBLUE_* variables (see README).
FROM python:3.11-slim
RUN useradd --system --uid 10001 --create-home --home-dir /home/ticketblue ticketblue
WORKDIR /app
COPY pyproject.toml README.md ./
COPY server ./server
COPY handlers ./handlers
COPY seatmap ./seatmap
COPY static ./static
# Editable, so the package finds static/ beside it in /app; all dependencies ship as wheels.
RUN pip install --no-cache-dir -e . && mkdir -p /app/var && chown ticketblue /app/var
USER ticketblue
ENV TICKETBLUE_HOST=0.0.0.0 \
    TICKETBLUE_PORT=8080 \
    TICKETBLUE_DATA_DIR=/app/var \
    PYTHONUNBUFFERED=1
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"
CMD ["python", "-m", "server", "serve"]
