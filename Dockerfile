FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends libmagic1 gettext && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir .
COPY . .
ENV PYTHONUNBUFFERED=1 STATIC_ROOT=/app/staticfiles
RUN SECRET_KEY=build python manage.py compilemessages && SECRET_KEY=build python manage.py collectstatic --noinput
EXPOSE 8000
