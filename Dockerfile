# One image for every pitlane process; the command picks the service.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
COPY pyproject.toml ./
COPY shared ./shared
COPY services ./services
COPY gateway ./gateway
COPY pitlane ./pitlane
RUN pip install .
EXPOSE 8080
CMD ["python", "-m", "pitlane.serve"]
