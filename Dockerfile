# RePlaya in a container: one Deno process, the browser bundles built into the image, the embedded store in
# /app/data (a volume) unless the S2_* variables point it at S2 Cloud or s2-lite (see compose.yaml).
#
# Every command below is one CI runs from a fresh clone (tests/deploy/deploy_test.ts, checked against this file by
# tests/deploy/container_test.ts): `deno install --frozen`, `deno task build`, `deno task serve` (the production
# command: writes to ./data only, no subprocesses) and `deno task healthcheck`.

# The Deno version in use (`deno --version`, .ci/run).
ARG DENO_VERSION=2.9.6

# Dependencies in their own layer, rebuilt only when deno.json or a lockfile changes.
FROM denoland/deno:${DENO_VERSION} AS deps
ENV DENO_DIR=/deno-dir
WORKDIR /app
COPY deno.json deno.lock ./
COPY recorder/deno.json recorder/deno.lock recorder/
RUN deno install --frozen

# The island bundles and the recorder, built into the image: the server never builds at runtime.
FROM deps AS build
COPY . .
RUN deno task build

FROM denoland/deno:${DENO_VERSION}
ENV DENO_DIR=/deno-dir
WORKDIR /app
# The code and its node_modules stay root's (read-only to the server); the dependency cache, which Deno also writes
# its compile cache to, and the data dir belong to the unprivileged `deno` user of the official image.
COPY --from=build --chown=deno:deno /deno-dir /deno-dir
COPY --from=build /app /app
RUN mkdir -p /app/data && chown deno:deno /app/data
ENV REPLAYA_ENV=production REPLAYA_HOST=0.0.0.0 REPLAYA_PORT=8080
USER deno
VOLUME /app/data
EXPOSE 8080
# GET /healthz: 200 when the store answers within 2 s, 503 otherwise (the image has no curl).
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["deno", "task", "healthcheck"]
# SIGTERM (docker stop) reaches the server through deno task: live streams end, requests in flight finish, the
# store closes.
CMD ["deno", "task", "serve"]
