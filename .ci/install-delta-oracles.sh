#!/usr/bin/env bash
# Installs the test-only Delta Lake oracles used by test/delta/*: delta-rs (Python `deltalake`) and
# Apache Spark with delta-spark (PySpark from PyPI, Delta jars from Maven Central). Idempotent: a
# second run checks the pinned versions and returns quickly.
#
#   bash .ci/install-delta-oracles.sh            # installs into $ETLD_ORACLE_DIR (default /opt/etld-oracles)
#   ETLD_ORACLE_DIR=/tmp/oracles bash .ci/install-delta-oracles.sh
#
# Layout: $ETLD_ORACLE_DIR/venv (python), $ETLD_ORACLE_DIR/jars/*.jar (delta-spark and its deps).
# Versions: delta-spark 4.4.0 is the newest release whose jar is on Maven Central, and it supports
# PySpark up to 4.2.0 (its wheel requires pyspark<=4.2.0); the jar built for Spark 4.2 / Scala 2.13
# is io.delta:delta-spark_4.2_2.13 (the name delta-spark's own pip_utils.py derives).
set -euo pipefail

ORACLE_DIR="${ETLD_ORACLE_DIR:-/opt/etld-oracles}"
VENV="$ORACLE_DIR/venv"
JARS="$ORACLE_DIR/jars"
PYSPARK_VERSION=4.2.0
DELTA_SPARK_VERSION=4.4.0
DELTALAKE_VERSION=1.6.6
DELTA_JAR="io.delta:delta-spark_4.2_2.13:${DELTA_SPARK_VERSION}"
STAMP="$ORACLE_DIR/.installed-pyspark${PYSPARK_VERSION}-delta${DELTA_SPARK_VERSION}-deltalake${DELTALAKE_VERSION}"

if [[ -f "$STAMP" ]] && ls "$JARS"/*delta-spark_*.jar >/dev/null 2>&1; then
  echo "delta oracles: already installed in $ORACLE_DIR (pyspark $PYSPARK_VERSION, delta-spark $DELTA_SPARK_VERSION, deltalake $DELTALAKE_VERSION)"
  exit 0
fi

command -v java >/dev/null || { echo "delta oracles: java (17+) is required for Spark" >&2; exit 1; }
mkdir -p "$ORACLE_DIR" "$JARS"

if [[ ! -x "$VENV/bin/python" ]]; then
  echo "delta oracles: creating venv $VENV"
  python3 -m venv "$VENV"
fi

echo "delta oracles: pip install pyspark==$PYSPARK_VERSION delta-spark==$DELTA_SPARK_VERSION deltalake==$DELTALAKE_VERSION pyarrow"
"$VENV/bin/pip" install --quiet \
  "pyspark==$PYSPARK_VERSION" "delta-spark==$DELTA_SPARK_VERSION" "deltalake==$DELTALAKE_VERSION" pyarrow

echo "delta oracles: fetching $DELTA_JAR and its dependencies from Maven Central (Ivy cache $ORACLE_DIR/ivy)"
"$VENV/bin/python" - "$DELTA_JAR" "$ORACLE_DIR/ivy" <<'PY'
import sys
from pyspark.sql import SparkSession
package, ivy = sys.argv[1], sys.argv[2]
spark = (SparkSession.builder.master("local[1]").appName("etld-oracle-prefetch")
         .config("spark.jars.packages", package)
         .config("spark.jars.ivy", ivy)
         .config("spark.ui.enabled", "false")
         .getOrCreate())
spark.stop()
PY
cp -f "$ORACLE_DIR/ivy/jars/"*.jar "$JARS/"
ls "$JARS"

touch "$STAMP"
echo "delta oracles: installed in $ORACLE_DIR"
