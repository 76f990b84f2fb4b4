# The crddemo controller image: `make image`, or by hand
#   docker build --build-arg VERSION=v1.2.3 -t crddemo:v1.2.3 .
# Any machine with Docker or Podman builds it; nothing else is needed.

# The Go release that go.mod's go directive names.
FROM golang:1.26 AS build
# The Go that builds crddemo everywhere (the Makefile, .ci/run): the go
# command fetches it from the module proxy. go1.26's standard library has
# vulnerabilities that crddemo reaches.
ENV GOTOOLCHAIN=go1.27.3
WORKDIR /src
# The module list alone first, so that the downloaded modules stay in a layer
# of their own that only a change of go.mod or go.sum rebuilds.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=v0.0.0-dev
# A static binary (no cgo) runs on the distroless base, which has no libc;
# -trimpath keeps the build machine's paths out of it, -s -w its symbol
# tables, and -X stamps the version that crddemo reports.
RUN CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X github.com/domac/crddemo/internal/version.version=${VERSION}" \
    -o /out/crddemo .

# No shell, no package manager, nothing to run but crddemo, as a user that is
# not root (the same 65532 that deploy/deployment.yaml asks for).
FROM gcr.io/distroless/static:nonroot
COPY --from=build /out/crddemo /crddemo
USER 65532:65532
ENTRYPOINT ["/crddemo"]
