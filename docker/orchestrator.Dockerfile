# TraderAdmin orchestrator. Hermetic: the wheelhouse (the orchestrator wheel and its pinned,
# hash-checked dependencies) is made on the host, pip installs from it alone (--no-index), and
# the build runs with --network none. Context: dist/<version>/.
#
# The bases are build arguments and must carry the same Python minor version (3.11, Debian
# 12's). The defaults are official images, for a machine with a registry; invoke images.build
# passes the local ones it makes offline (invoke images.bases).
ARG BUILD_BASE=python:3.11-slim-bookworm
ARG RUNTIME_BASE=gcr.io/distroless/python3-debian12:nonroot

FROM ${BUILD_BASE} AS install
COPY orchestrator/wheelhouse/ /wheelhouse/
# Byte-code compiled here (unchecked hashes: valid whatever the file times), because the
# runtime file system is read-only and Python could not write it there.
RUN python3 -m pip install --no-index --find-links=/wheelhouse --no-compile \
        --disable-pip-version-check --root-user-action=ignore \
        --target=/rootfs/opt/traderadmin/lib traderadmin-orchestrator \
 && rm -rf /rootfs/opt/traderadmin/lib/bin \
 && python3 -m compileall -q --invalidation-mode=unchecked-hash /rootfs/opt/traderadmin/lib

FROM ${RUNTIME_BASE}
ARG RUNTIME_BASE
ARG VERSION=unknown
ARG REVISION=unknown
ARG CREATED=1970-01-01T00:00:00Z
ARG SOURCE=https://traderadmin.invalid/
LABEL org.opencontainers.image.title="traderadmin-orchestrator" \
      org.opencontainers.image.description="TraderAdmin orchestrator: runs the configured paper-trading strategies" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.base.name="${RUNTIME_BASE}"
COPY --from=install /rootfs/ /
ENV PYTHONPATH=/opt/traderadmin/lib \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ORCHESTRATOR_LISTEN=0.0.0.0:8081
EXPOSE 8081
USER 65532:65532
ENTRYPOINT ["python3", "-m", "traderadmin_orchestrator"]
