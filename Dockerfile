FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain domain
COPY application application
COPY adapters adapters
COPY entrypoints entrypoints
COPY migrations migrations
COPY config config
COPY examples examples
RUN pip install --no-cache-dir --prefer-binary -e .
EXPOSE 8000
CMD ["sixbtc", "api", "--host", "0.0.0.0", "--port", "8000"]
