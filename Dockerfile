# Build: a release binary with SQLite bundled; libpq is linked dynamically.
FROM rust:1.95-bookworm AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev && rm -rf /var/lib/apt/lists/*
# Dependencies first, built against stub sources, so a change to src/ reuses this layer and
# recompiles only this crate. .cargo/ says how the bundled SQLite is compiled.
COPY Cargo.toml Cargo.lock build.rs ./
COPY .cargo ./.cargo
RUN mkdir -p src migrations \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src
COPY src ./src
COPY migrations ./migrations
# COPY keeps the sources' own modification times, which can be older than the stub build:
# touching the crate roots makes cargo rebuild this crate instead of keeping the stubs.
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked \
    && strip target/release/meeting-registry

# Run: a small Debian image, a non-root user, the database on a volume.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data registry \
    && mkdir -p /data && chown registry /data
COPY --from=build /src/target/release/meeting-registry /usr/local/bin/meeting-registry
COPY data /usr/share/meeting-registry/data
# uid 10001 owns the named volume's /data. A host folder mounted there instead keeps its
# host owner: run the container with that owner's uid (docker run --user "$(id -u)") or give
# the folder to 10001; otherwise start-up stops with "the folder /data is not writable".
USER registry
WORKDIR /data
VOLUME ["/data"]
ENV DATABASE_URL=/data/registry.db \
    REGISTRY_BIND=0.0.0.0:8080 \
    RUST_LOG=info \
    MALLOC_ARENA_MAX=2
EXPOSE 8080
STOPSIGNAL SIGTERM
# GET /readyz on the REGISTRY_BIND port (the image has no curl).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["meeting-registry", "healthcheck"]
ENTRYPOINT ["meeting-registry"]
CMD ["serve"]
