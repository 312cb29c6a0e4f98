/**
 * The Python programs the bench runs in the peers' virtualenv, written into the work directory:
 * the dlt and polars loads (each the way its documentation shows for the fastest local path), a
 * row counter for what every peer wrote, and a probe for installed versions.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_COLUMNS } from './dataset.js';

export interface PeerScripts {
  readonly dlt: string;
  readonly polars: string;
  readonly countRows: string;
  readonly versions: string;
}

/** dlt: one table, replace disposition, Delta table format on the local filesystem. */
const DLT = `import sys, dlt
from dlt.sources.sql_database import sql_table

url, backend, out_dir, pipelines_dir = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
table = sql_table(credentials=url, table="bench", backend=backend, chunk_size=200000)
pipeline = dlt.pipeline(
    pipeline_name="bench_" + backend,
    destination=dlt.destinations.filesystem(bucket_url="file://" + out_dir),
    dataset_name="bench",
    pipelines_dir=pipelines_dir,
)
info = pipeline.run(table, loader_file_format="parquet", table_format="delta", write_disposition="replace")
print(info)
`;

/**
 * polars: ConnectorX reads the whole result into Arrow (optionally split on id into
 * partition_num parallel queries), delta-rs writes it.
 */
const POLARS = `import sys
import polars as pl

uri, out, partitions = sys.argv[1], sys.argv[2], int(sys.argv[3])
query = "SELECT ${BENCH_COLUMNS} FROM bench"
options = {"partition_on": "id", "partition_num": partitions} if partitions > 1 else {}
frame = pl.read_database_uri(query, uri, engine="connectorx", **options)
frame.write_delta(out, mode="overwrite")
print(frame.height)
`;

/**
 * Rows in what a tool wrote: a Delta table (its current snapshot), Parquet (file or directory, from
 * the footers) or CSV with a header line (lines; the bench data has no embedded newlines).
 * Prints the number, or a line starting with "error:".
 */
const COUNT_ROWS = `import os, sys

path = sys.argv[1]
try:
    if os.path.isdir(os.path.join(path, "_delta_log")):
        from deltalake import DeltaTable
        print(DeltaTable(path).to_pyarrow_dataset().count_rows())
    elif path.endswith(".csv"):
        files = [path] if os.path.isfile(path) else [os.path.join(path, f) for f in sorted(os.listdir(path))]
        total = 0
        for name in files:
            with open(name, "rb") as handle:
                total += max(0, sum(1 for _ in handle) - 1)
        print(total)
    else:
        import pyarrow.dataset as ds
        print(ds.dataset(path, format="parquet").count_rows())
except Exception as error:
    print("error: " + type(error).__name__ + ": " + str(error).splitlines()[0] if str(error) else "error: " + type(error).__name__)
`;

/** Installed versions of the given distributions as JSON (null when absent). */
const VERSIONS = `import json, sys
from importlib import metadata

found = {}
for name in sys.argv[1:]:
    try:
        found[name] = metadata.version(name)
    except metadata.PackageNotFoundError:
        found[name] = None
print(json.dumps(found))
`;

export function writePeerScripts(dir: string): PeerScripts {
  const write = (name: string, text: string): string => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  return {
    dlt: write('dlt_bench.py', DLT),
    polars: write('polars_bench.py', POLARS),
    countRows: write('count_rows.py', COUNT_ROWS),
    versions: write('versions.py', VERSIONS),
  };
}
