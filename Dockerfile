# syntax=docker/dockerfile:1
# Build a static chatpay binary (pure Go: modernc SQLite needs no cgo), then ship it
# alone in a distroless image that runs as an unprivileged user.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/chatpay ./cmd/chatpay \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/chatpay /usr/local/bin/chatpay
COPY --from=build --chown=nonroot:nonroot /out/data /data
WORKDIR /data
USER nonroot:nonroot
ENV CHATPAY_HTTP_ADDR=0.0.0.0:8080 \
    CHATPAY_DATABASE_URL=sqlite:/data/chatpay.db
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/chatpay"]
CMD ["serve"]
