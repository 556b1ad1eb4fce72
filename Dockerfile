# Build a static manager binary, then copy it onto a minimal non-root base.
# `make docker-build IMG=<repository>:<tag>` runs this. There is no Docker
# engine in the test environment: test/suites/packaging runs this file's
# `go build` line itself and checks that the binary is static, and that the
# final stage is minimal and runs as a numeric non-root user. Keep the build
# on one RUN line.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY api/ api/
COPY cmd/ cmd/
COPY internal/ internal/
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /out/manager ./cmd

# scratch holds nothing but the binary and the CA bundle (for https metric
# providers and webhooks); it runs as a non-root numeric user.
FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/manager /manager
USER 65532:65532
ENTRYPOINT ["/manager"]
