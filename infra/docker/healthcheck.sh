#!/usr/bin/env bash
# HEALTHCHECK of the Metering images: exit 0 when GET PATH (default /healthz/ready) answers 200 on the local port of
# ASPNETCORE_URLS (the first URL, e.g. http://+:5080), which every image sets.
# The .NET runtime images have neither curl nor wget; bash's /dev/tcp is enough for one local HTTP request.
set -u
path="${1:-/healthz/ready}"
url="${ASPNETCORE_URLS:?ASPNETCORE_URLS names the port to check}"
url="${url%%;*}"
url="${url%/}"
port="${url##*:}"
[[ "$port" =~ ^[0-9]+$ ]] || { echo "no port in ASPNETCORE_URLS: $ASPNETCORE_URLS" >&2; exit 1; }
exec 3<>"/dev/tcp/127.0.0.1/${port}" || exit 1
printf 'GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$path" >&3
IFS= read -r -t 2 status <&3 || exit 1
[[ "$status" == HTTP/1.1\ 200* ]]
