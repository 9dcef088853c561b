# TraderAdmin backend. Hermetic: the static binary is built on the host (invoke images.build
# runs `go build` first) and the build runs with --network none. Context: dist/<version>/.
#
# The bases are build arguments. The defaults are the official images, for a machine with a
# registry; invoke images.build passes the local ones it makes offline (invoke images.bases).
ARG BUILD_BASE=python:3.11-slim-bookworm
ARG RUNTIME_BASE=gcr.io/distroless/static-debian12:nonroot

# The final stage has no shell, so the file system is laid out here.
FROM ${BUILD_BASE} AS prepare
COPY backend/traderadmin-backend-linux-amd64 /rootfs/usr/local/bin/traderadmin-backend
RUN chmod 0555 /rootfs/usr/local/bin/traderadmin-backend \
 && mkdir -p /rootfs/var/lib/traderadmin \
 && chown 65532:65532 /rootfs/var/lib/traderadmin \
 && chmod 0750 /rootfs/var/lib/traderadmin

FROM ${RUNTIME_BASE}
ARG RUNTIME_BASE
ARG VERSION=unknown
ARG REVISION=unknown
ARG CREATED=1970-01-01T00:00:00Z
ARG SOURCE=https://traderadmin.invalid/
LABEL org.opencontainers.image.title="traderadmin-backend" \
      org.opencontainers.image.description="TraderAdmin backend: configuration API, audit log, heartbeats" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.base.name="${RUNTIME_BASE}"
COPY --from=prepare /rootfs/ /
# Mount a writable volume here; the root file system can then be read-only.
ENV BACKEND_LISTEN=:8080 \
    BACKEND_DATA_DIR=/var/lib/traderadmin
EXPOSE 8080
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/traderadmin-backend"]
