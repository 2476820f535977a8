# Build: a release binary with SQLite bundled; libpq is linked dynamically.
FROM rust:1.95-bookworm AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev && rm -rf /var/lib/apt/lists/*
COPY Cargo.toml Cargo.lock build.rs ./
# How the bundled SQLite is compiled (LIBSQLITE3_FLAGS).
COPY .cargo ./.cargo
COPY src ./src
COPY migrations ./migrations
RUN cargo build --release --locked && strip target/release/meeting-registry

# Run: a small Debian image, a non-root user, the database on a volume.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data registry \
    && mkdir -p /data && chown registry /data
COPY --from=build /src/target/release/meeting-registry /usr/local/bin/meeting-registry
COPY data /usr/share/meeting-registry/data
USER registry
WORKDIR /data
VOLUME ["/data"]
ENV DATABASE_URL=/data/registry.db \
    REGISTRY_BIND=0.0.0.0:8080 \
    RUST_LOG=info \
    MALLOC_ARENA_MAX=2
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["meeting-registry"]
CMD ["serve"]
