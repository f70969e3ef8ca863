#!/usr/bin/env bash
# Scenario 3 at 1,000,000 instances: its own row set and targets (see big_fleet.sh).
exec bash "$(dirname "$0")/big_fleet.sh" "${BENCH_S3_1M_INSTANCES:-1000000}"
