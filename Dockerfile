# RePlaya in a container: one Deno process; the embedded store lives in /data.
FROM denoland/deno:2.9.6
WORKDIR /app
COPY . .
RUN deno install && deno task build && mkdir -p /data && chown deno:deno /data
ENV REPLAYA_HOST=0.0.0.0 REPLAYA_DATA_DIR=/data REPLAYA_ENV=production
VOLUME /data
EXPOSE 8080
USER deno
CMD ["deno", "run", "--allow-net", "--allow-env", "--allow-read", "--allow-write", "--allow-run", "--allow-sys", "main.ts"]
