#!/usr/bin/env bash
# HEALTHCHECK of the Metering images: exit 0 when GET /healthz/ready on the given local port answers 200.
# The .NET runtime images have neither curl nor wget; bash's /dev/tcp is enough for one local HTTP request.
set -u
port="${1:?usage: healthcheck.sh PORT [PATH]}"
path="${2:-/healthz/ready}"
exec 3<>"/dev/tcp/127.0.0.1/${port}" || exit 1
printf 'GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$path" >&3
IFS= read -r -t 2 status <&3 || exit 1
[[ "$status" == HTTP/1.1\ 200* ]]
