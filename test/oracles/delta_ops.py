"""Answers etld's Delta tests one request at a time, with one engine process for a whole test file
(a Spark JVM takes a minute to start here): creating tables with Spark, reading with a filter and
reporting which files were read (partition pruning), and reading the change data feed.

    python delta_ops.py deltalake|spark      # one JSON request per stdin line

Each answer is one stdout line `ETLD-ANSWER {json}`; a failed request answers {"error": "..."}.
Requests:
    {"op": "sql", "sql": [statement, ...]}                   Spark only
    {"op": "read", "path": P, "where": SQL}                  Spark: rows, files of the rows, files scanned
    {"op": "files", "path": P, "filters": [[col, op, v]]}    delta-rs: file_uris(partition_filters), relative
    {"op": "cdf", "path": P, "start": V}                     both: change feed rows from version V
    {"op": "quit"}
Values are normalised as by delta_read.py (rows sorted); change rows keep `_change_type` and
`_commit_version` and drop `_commit_timestamp`.
"""
import json
import os
import sys

from delta_read import normalise, table_json

CDF_COLUMNS = {"_change_type", "_commit_version", "_commit_timestamp"}
CDF_FIELDS = [
    {"name": "_change_type", "type": "string", "nullable": True},
    {"name": "_commit_version", "type": "long", "nullable": True},
]


def cdf_json(fields, rows):
    rows = [{k: v for k, v in row.items() if k != "_commit_timestamp"} for row in rows]
    return table_json(fields + CDF_FIELDS, None, rows)


class DeltaRs:
    def handle(self, request):
        from deltalake import DeltaTable

        op = request["op"]
        table = DeltaTable(request["path"])
        fields = json.loads(table.schema().to_json())["fields"]
        if op == "files":
            filters = [tuple(f) for f in request.get("filters") or []]
            uris = table.file_uris(partition_filters=filters or None)
            root = os.path.abspath(request["path"])
            # Local files come back as plain absolute paths; report them relative to the table.
            return {"files": sorted(os.path.relpath(uri.removeprefix("file://"), root) for uri in uris)}
        if op == "cdf":
            import pyarrow

            # load_cdf returns an Arrow stream (arro3); pyarrow reads it through the C stream interface.
            stream = table.load_cdf(starting_version=request["start"])
            rows = pyarrow.RecordBatchReader.from_stream(stream).read_all().to_pylist()
            return cdf_json(fields, rows)
        raise ValueError(f"delta-rs cannot {op}")


class Spark:
    def __init__(self):
        from pyspark.sql import SparkSession

        jars_dir = os.path.join(os.environ.get("ETLD_ORACLE_DIR", "/opt/etld-oracles"), "jars")
        jars = ",".join(
            os.path.join(jars_dir, name) for name in sorted(os.listdir(jars_dir)) if name.endswith(".jar")
        )
        self.spark = (
            SparkSession.builder.master("local[1]")
            .appName("etld-delta-ops")
            .config("spark.jars", jars)
            .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
            .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "1")
            .config("spark.databricks.delta.snapshotPartitions", "1")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.memory", "1g")
            .getOrCreate()
        )
        self.spark.sparkContext.setLogLevel("ERROR")

    def handle(self, request):
        from pyspark.sql.functions import input_file_name

        op = request["op"]
        if op == "sql":
            for statement in request["sql"]:
                self.spark.sql(statement).collect()
            return {"ok": True}
        frame = self.spark.read.format("delta")
        if op == "cdf":
            frame = frame.option("readChangeFeed", "true").option("startingVersion", request["start"])
        frame = frame.load(request["path"])
        fields = [f for f in json.loads(frame.schema.json())["fields"] if f["name"] not in CDF_COLUMNS]
        if op == "cdf":
            return cdf_json(fields, [row.asDict(recursive=True) for row in frame.collect()])
        if op == "read":
            if request.get("where"):
                frame = frame.where(request["where"])
            frame = frame.select("*", input_file_name().alias("_etld_file"))
            rows = [row.asDict(recursive=True) for row in frame.collect()]
            files = sorted({row.pop("_etld_file") for row in rows})
            answer = table_json(fields, None, rows)
            answer["files"] = files
            answer["filesScanned"] = self.files_scanned(frame)
            return answer
        raise ValueError(f"Spark cannot {op}")

    @staticmethod
    def files_scanned(frame):
        """The scan's `numFiles` metric: the files left after partition pruning."""
        leaves = frame._jdf.queryExecution().executedPlan().collectLeaves()
        total = 0
        for i in range(leaves.size()):
            metrics = leaves.apply(i).metrics()
            if metrics.contains("numFiles"):
                total += metrics.apply("numFiles").value()
        return total


def main():
    os.environ["TZ"] = "UTC"
    engine = {"deltalake": DeltaRs, "spark": Spark}[sys.argv[1]]()
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "quit":
            break
        try:
            answer = engine.handle(request)
        except Exception as error:  # the test asserts on the message
            answer = {"error": f"{type(error).__name__}: {str(error)[:2000]}"}
        print("ETLD-ANSWER " + json.dumps(answer), flush=True)
    if isinstance(engine, Spark):
        engine.spark.stop()
    sys.stdout.flush()
    # As delta_read.py: delta-rs's native runtime can abort during teardown; the answers are out.
    os._exit(0)


if __name__ == "__main__":
    main()
