#!/bin/sh
# Waits for the Temporal server, creates the namespace (when missing) and registers the
# project's custom search attributes; safe to run again. Used by docker-compose.yml
# (temporal-setup) and by the harness that runs the production topology in tests.
#   TEMPORAL_CLI            the Temporal CLI (default: temporal)
#   TEMPORAL_ADDRESS        the frontend, host:port
#   HEALTH_WAIT_SECONDS     how long to wait for the server (default 90)
#   NAMESPACE, NAMESPACE_RETENTION (default 720h)
#   AIMS_SEARCH_ATTRIBUTES  Name=Type pairs separated by white space
set -eu
cli=${TEMPORAL_CLI:-temporal}
tries=0
until "$cli" operator cluster health --address "$TEMPORAL_ADDRESS" 2>/dev/null | grep -q SERVING; do
  tries=$((tries + 1))
  if [ "$tries" -ge "${HEALTH_WAIT_SECONDS:-90}" ]; then
    echo "Temporal at $TEMPORAL_ADDRESS did not answer SERVING within ${HEALTH_WAIT_SECONDS:-90} s:" >&2
    "$cli" operator cluster health --address "$TEMPORAL_ADDRESS" >&2 || true
    exit 1
  fi
  sleep 1
done
if "$cli" operator namespace describe --address "$TEMPORAL_ADDRESS" -n "$NAMESPACE" >/dev/null 2>&1; then
  echo "namespace $NAMESPACE exists"
else
  "$cli" operator namespace create --address "$TEMPORAL_ADDRESS" -n "$NAMESPACE" --retention "${NAMESPACE_RETENTION:-720h}"
fi
tries=0
until "$cli" operator search-attribute list --address "$TEMPORAL_ADDRESS" -n "$NAMESPACE" >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then echo "namespace $NAMESPACE is not ready" >&2; exit 1; fi
  sleep 1
done
for pair in $AIMS_SEARCH_ATTRIBUTES; do
  name=${pair%%=*}
  type=${pair#*=}
  if out=$("$cli" operator search-attribute create --address "$TEMPORAL_ADDRESS" -n "$NAMESPACE" --name "$name" --type "$type" 2>&1); then
    echo "search attribute $name ($type) registered"
  elif echo "$out" | grep -qi "already exists"; then
    echo "search attribute $name exists"
  else
    echo "$out" >&2
    exit 1
  fi
done
