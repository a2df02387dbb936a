# The simtom server image: `docker build -t simtom . && docker run -p 8000:8000 simtom`.
# Install steps are the ones CI runs (uv and the committed uv.lock), so what CI tests is what ships.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_COMPILE_BYTECODE=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv NUMBA_CACHE_DIR=/opt/numba-cache
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
COPY kernels ./kernels
COPY simtom ./simtom
# Compile every kernel into the Numba cache at build time: a container's first request pays no
# compile time (the server also loads them from this cache in the background when it starts;
# /health/ready answers 200 once it has).
RUN uv sync --frozen --no-dev --no-editable \
    && useradd --create-home --uid 10001 simtom \
    && /opt/venv/bin/python -c "from simtom.serving.server import warm; warm()" \
    && chown -R simtom /opt/numba-cache
USER simtom
ENV PATH=/opt/venv/bin:$PATH \
    SIMTOM_HOST=0.0.0.0 SIMTOM_PORT=8000 SIMTOM_LOG_LEVEL=info
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/ready' % os.environ.get('SIMTOM_PORT', '8000'), timeout=4)"
ENTRYPOINT ["simtom"]
CMD ["serve"]
