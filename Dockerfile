# syntax=docker/dockerfile:1
# The images of every Metering service, one build target each (ingest, budgets, billing). Build from the
# repository root:
#   docker build --target ingest -t metering/ingest .
# One build stage publishes every service: they share most of their projects, so a build of every image (Compose,
# a release) compiles them once, and each target copies its own. COPY --parents needs Dockerfile syntax 1.20 or later
# (the `syntax` line above fetches the current 1.x).
# With --build-arg APP_SOURCE=host an image takes a `dotnet publish` output from .tilt/publish/metering-<target> instead
# of building here: that is how Tilt builds on the host; the runtime stages are the same.
ARG APP_SOURCE=container

FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
WORKDIR /src
# The local feed's one package (see README "Why a local NuGet feed") is packed before restoring.
COPY nuget.config Directory.Build.props Directory.Packages.props ./
COPY services/Directory.Build.props services/
COPY infra/packages/Patched.DistributedLock.Core/ infra/packages/Patched.DistributedLock.Core/
RUN dotnet pack infra/packages/Patched.DistributedLock.Core -v q --nologo
# The services published; --build-arg SERVICES=Metering.Ingest builds one image without compiling the others.
ARG SERVICES="Metering.Ingest Metering.Budgets Metering.Billing"
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

# What every image shares: the ASP.NET runtime, the health check, the non-root user. Each target below adds its
# service's files, its ports (each service's defaults in its Program.cs, on every interface of the container: the
# services default to 127.0.0.1 outside containers) and its entry point. The metrics are on a port of their own
# (METERING_MANAGEMENT_URL), never on the API's.
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble AS runtime
WORKDIR /app
COPY --chmod=0755 infra/docker/healthcheck.sh /usr/local/bin/metering-healthcheck
ENV ASPNETCORE_HTTP_PORTS=
USER 1654
# GET /healthz/ready on the port of ASPNETCORE_URLS, which each target sets.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD ["metering-healthcheck", "/healthz/ready"]

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
