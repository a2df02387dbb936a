# simtom image. The streaming issue turns this into the server image (`simtom serve`); until then
# it runs the CLI. Install steps are the ones CI runs: uv and the committed uv.lock.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_COMPILE_BYTECODE=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv NUMBA_CACHE_DIR=/opt/numba-cache
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
COPY kernels ./kernels
COPY simtom ./simtom
RUN uv sync --frozen --no-dev --no-editable && useradd --create-home simtom \
    && /opt/venv/bin/python -c "import simtom; simtom.frame('bnpl', n=10, seed=1)" \
    && chown -R simtom /opt/numba-cache
USER simtom
ENV PATH=/opt/venv/bin:$PATH
ENTRYPOINT ["simtom"]
CMD ["generators"]
