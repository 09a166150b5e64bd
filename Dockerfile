# syntax=docker/dockerfile:1
# The images of every Metering service, one build target each (ingest, budgets, billing, console). Build from the
# repository root:
#   docker build --target ingest -t metering/ingest .
# One build stage publishes all four services: they share most of their projects, so a build of every image (Compose,
# a release) compiles them once, and each target copies its own. The console's target also builds the web console
# (console/) in a Node.js stage, which the other targets never run. COPY --parents needs Dockerfile syntax 1.20 or later
# (the `syntax` line above fetches the current 1.x).
# With --build-arg APP_SOURCE=host an image takes a `dotnet publish` output from .tilt/publish/metering-<target> (and the
# console's built app from .tilt/publish/metering-console-app) instead of building here: that is how Tilt builds on the
# host; the runtime stages are the same.
ARG APP_SOURCE=container

FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
WORKDIR /src
# The local feed's one package (see README "Why a local NuGet feed") is packed before restoring.
COPY nuget.config Directory.Build.props Directory.Packages.props ./
COPY services/Directory.Build.props services/
COPY infra/packages/Patched.DistributedLock.Core/ infra/packages/Patched.DistributedLock.Core/
RUN dotnet pack infra/packages/Patched.DistributedLock.Core -v q --nologo
# The services published; --build-arg SERVICES=Metering.Ingest builds one image without compiling the others.
ARG SERVICES="Metering.Ingest Metering.Budgets Metering.Billing Metering.Console"
# Project files first, in their folders: the restore layer stays cached while only code changes.
COPY --parents contracts/*/*.csproj services/*/*.csproj ./
RUN for project in $SERVICES; do dotnet restore "services/$project/$project.csproj" || exit 1; done
COPY contracts/ contracts/
COPY services/ services/
# Each into /app/metering-<name>, the folder its target copies (Metering.Ingest → /app/metering-ingest).
RUN for project in $SERVICES; do \
      name="metering-$(echo "${project#Metering.}" | tr '[:upper:]' '[:lower:]')"; \
      dotnet publish "services/$project/$project.csproj" -c Release --no-restore -o "/app/$name" || exit 1; \
    done

FROM build AS app-container

FROM scratch AS app-host
COPY .tilt/publish/ /app/

FROM app-${APP_SOURCE} AS app

# What every image shares: the ASP.NET runtime, the health check, the non-root user. Each target below adds only its
# service's own five lines: its files, its ports (each service's defaults in its Program.cs, on every interface of the
# container: the services default to 127.0.0.1 outside containers) and its entry point. The metrics are on a port of
# their own (METERING_MANAGEMENT_URL), never on the API's.
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble AS runtime
WORKDIR /app
COPY --chmod=0755 infra/docker/healthcheck.sh /usr/local/bin/metering-healthcheck
ENV ASPNETCORE_HTTP_PORTS=
USER 1654
# GET /healthz/ready on the port of ASPNETCORE_URLS, which each target sets.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 CMD ["metering-healthcheck", "/healthz/ready"]

# The files are owned by the image's non-root user (1654, "app" in the .NET images) so that Tilt's live update can sync
# into /app; production pods mount the root filesystem read-only.
FROM runtime AS ingest
COPY --from=app --chown=1654:1654 /app/metering-ingest/ ./
ENV ASPNETCORE_URLS=http://+:5080 METERING_MANAGEMENT_URL=http://+:5090
EXPOSE 5080 5090
ENTRYPOINT ["dotnet", "Metering.Ingest.dll"]

# 11111: Orleans silo-to-silo (METERING_ORLEANS_SILO_PORT). No Orleans gateway is opened.
FROM runtime AS budgets
COPY --from=app --chown=1654:1654 /app/metering-budgets/ ./
ENV ASPNETCORE_URLS=http://+:5081 METERING_MANAGEMENT_URL=http://+:5091
EXPOSE 5081 5091 11111
ENTRYPOINT ["dotnet", "Metering.Budgets.dll"]

FROM runtime AS billing
COPY --from=app --chown=1654:1654 /app/metering-billing/ ./
ENV ASPNETCORE_URLS=http://+:5082 METERING_MANAGEMENT_URL=http://+:5092
EXPOSE 5082 5092
ENTRYPOINT ["dotnet", "Metering.Billing.dll"]

# The web console's single-page app, beside the one target that copies it: npm ci, then npm run build, which
# generates the app's API types from the services' OpenAPI documents (docs/openapi) before vite builds dist/.
FROM node:20-bookworm-slim AS console-app-container
WORKDIR /src/console
COPY console/package.json console/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY docs/openapi/ /src/docs/openapi/
COPY console/ ./
RUN npm run build

FROM scratch AS console-app-host
COPY .tilt/publish/metering-console-app/ /src/console/dist/

FROM console-app-${APP_SOURCE} AS console-app

# The console's host serves the built app from /app/dist (METERING_CONSOLE_DIST).
FROM runtime AS console
COPY --from=app --chown=1654:1654 /app/metering-console/ ./
COPY --from=console-app --chown=1654:1654 /src/console/dist/ ./dist/
ENV ASPNETCORE_URLS=http://+:5083 METERING_MANAGEMENT_URL=http://+:5093 METERING_CONSOLE_DIST=/app/dist
EXPOSE 5083 5093
ENTRYPOINT ["dotnet", "Metering.Console.dll"]
