# syntax=docker/dockerfile:1
# One image per controller: `docker buildx bake` (see docker-bake.hcl) sets BINARY to the
# controller's binary (which is also its Cargo package name), e.g.
#   docker build --build-arg BINARY=source-controller -t flux-rs/source-controller .

ARG RUST_VERSION=1.95

# Build a static musl binary: Alpine's Rust targets musl natively, and build-base gives
# ring the C compiler it needs (TLS is rustls; there is no OpenSSL to link).
FROM rust:${RUST_VERSION}-alpine AS build
ARG BINARY
RUN apk add --no-cache build-base
WORKDIR /src
COPY . .
# Cache the registry and target dir between builds; copy the binary out of the cache mount.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    test -n "${BINARY}" \
    && cargo build --release --locked -p "${BINARY}" --bin "${BINARY}" \
    && mkdir -p /out \
    && cp "target/release/${BINARY}" /out/manager

# Distroless static: no shell, no package manager, CA certificates and tzdata included,
# runs as the numeric non-root user 65532 so `runAsNonRoot: true` can verify it.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/manager /usr/local/bin/manager
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/manager"]
