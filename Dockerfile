# syntax=docker/dockerfile:1

# Build stage. go-sqlite3 is cgo, so build with CGO_ENABLED=1 on the same
# Debian release as the runtime stage: the binary links that glibc.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=1 go build -trimpath -ldflags='-s -w' -o /out/scimgate ./cmd/scimgate

# Runtime stage.
FROM debian:bookworm-slim
# ca-certificates: sources call Entra and Okta over HTTPS.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 scimgate \
 && useradd --system --uid 10001 --gid scimgate --home-dir /data --shell /usr/sbin/nologin scimgate \
 && mkdir -p /data \
 && chown scimgate:scimgate /data
COPY --from=build /out/scimgate /usr/local/bin/scimgate

# The database lives on the volume; created and migrated on first start.
ENV SCIMGATE_DB=/data/scimgate.db
VOLUME /data
WORKDIR /data
# Numeric, so runtimes enforcing runAsNonRoot can verify it.
USER 10001:10001
EXPOSE 8080
# The slim image has no curl: the binary probes itself, on the port of
# SCIMGATE_LISTEN (default :8080). Change the port through SCIMGATE_LISTEN,
# not `serve --listen`, so the probe follows it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["scimgate", "healthcheck"]
ENTRYPOINT ["scimgate"]
CMD ["serve"]
