# chinesium in a container: a static Go binary on Debian with its ffmpeg
# (libx264, for the H.264 stream that Home Assistant and UniFi Protect
# need).
#
#   docker build -t chinesium .
#   docker run -d --name chinesium --network host --restart unless-stopped \
#       -v chinesium-state:/var/lib/chinesium \
#       -v /srv/chinesium/chinesium.yaml:/etc/chinesium/chinesium.yaml:ro \
#       chinesium serve -config /etc/chinesium/chinesium.yaml
#
# or, without a file, the cameras on the command line (or in
# CHINESIUM_CAMERAS):
#
#   docker run -d --network host -v chinesium-state:/var/lib/chinesium chinesium serve 10.10.1.30
#
# Host networking (--network host) is needed: WS-Discovery (how NVRs find
# the cameras) is multicast on the LAN, which Docker's bridge network does
# not pass, and the cameras send their video by UDP to the address the
# bridge logs in from, which must be the host's own.

ARG GO_VERSION=1.26
ARG DEBIAN_RELEASE=trixie

FROM golang:${GO_VERSION}-${DEBIAN_RELEASE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# VERSION is what "chinesium version" prints (docker build --build-arg
# VERSION=v1.2.3); empty means "(devel)".
ARG VERSION=""
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
        -o /out/chinesium ./cmd/chinesium \
    && /out/chinesium version

FROM debian:${DEBIAN_RELEASE}-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/chinesium \
        --shell /usr/sbin/nologin chinesium \
    && install -d -o chinesium -g chinesium -m 0700 /var/lib/chinesium \
    && install -d -m 0755 /etc/chinesium
COPY --from=build /out/chinesium /usr/local/bin/chinesium

# What ONVIF clients change (users, scopes, profiles) is kept here; a
# directory mounted here from the host must belong to uid 10001.
ENV CHINESIUM_STATE_DIR=/var/lib/chinesium
VOLUME ["/var/lib/chinesium"]
USER chinesium:chinesium
WORKDIR /var/lib/chinesium

# For the record: with host networking these are the host's ports. The
# first camera's HTTP port (ONVIF, MJPEG, snapshot; the next cameras take
# 8001, 8002, ...), the admin web page and /metrics, RTSP, WS-Discovery.
EXPOSE 8000/tcp 8080/tcp 8554/tcp 3702/udp

ENTRYPOINT ["/usr/local/bin/chinesium"]
CMD ["serve", "-config", "/etc/chinesium/chinesium.yaml"]
