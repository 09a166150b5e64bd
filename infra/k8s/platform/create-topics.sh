#!/bin/sh
# Creates Metering's topics from topics.txt (beside this script) on the Kafka at $KAFKA_BOOTSTRAP_SERVERS, with
# $TOPIC_REPLICATION_FACTOR replicas, and applies their cleanup policy and retention. Safe to run again. Fails when
# an existing topic has another partition count than the list: that needs an operator's decision (README).
# Runs in the apache/kafka image (Kubernetes Job metering-topics, docker-compose service kafka-topics).
set -eu
bootstrap="${KAFKA_BOOTSTRAP_SERVERS:?KAFKA_BOOTSTRAP_SERVERS is not set}"
replicas="${TOPIC_REPLICATION_FACTOR:-1}"
topics="${TOPICS_FILE:-$(dirname "$0")/topics.txt}"
bin="${KAFKA_BIN:-/opt/kafka/bin}"

until "$bin/kafka-broker-api-versions.sh" --bootstrap-server "$bootstrap" >/dev/null 2>&1; do
  echo "waiting for Kafka at $bootstrap"
  sleep 2
done

grep -v '^[[:space:]]*#' "$topics" | while read -r name partitions cleanup retention; do
  [ -n "$name" ] || continue
  "$bin/kafka-topics.sh" --bootstrap-server "$bootstrap" --create --if-not-exists --topic "$name" \
    --partitions "$partitions" --replication-factor "$replicas" \
    --config "cleanup.policy=$cleanup" --config "retention.ms=$retention"
  "$bin/kafka-configs.sh" --bootstrap-server "$bootstrap" --alter --entity-type topics --entity-name "$name" \
    --add-config "cleanup.policy=$cleanup,retention.ms=$retention" >/dev/null
  actual=$("$bin/kafka-topics.sh" --bootstrap-server "$bootstrap" --describe --topic "$name" | grep -c 'Partition: ')
  if [ "$actual" != "$partitions" ]; then
    echo "topic $name has $actual partitions; Metering expects $partitions" >&2
    exit 1
  fi
  echo "topic $name: $partitions partitions, cleanup.policy=$cleanup, retention.ms=$retention"
done
