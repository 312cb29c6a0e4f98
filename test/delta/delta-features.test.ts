/** The table-feature gate and in-commit timestamps on tables that enable them. */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MetadataAction, ProtocolAction } from '../../daemon/destinations/delta/delta-actions.js';
import { DeltaDestination } from '../../daemon/destinations/delta/delta-destination.js';
import { checkTableFeatures } from '../../daemon/destinations/delta/delta-features.js';
import { protocolFor } from '../../daemon/destinations/delta/delta-load.js';
import type { StructType } from '../../daemon/destinations/delta/delta-schema.js';
import { silentLogger } from '../../daemon/logging/logger.js';
import type { ColumnSchema } from '../../shared/types.js';
import { tempDir } from './fixtures.js';
import { Staging, request } from './staging.js';
import { commitBatch } from '../conformance/commit-batch.js';
import { FileStore } from '../../daemon/storage/file-store.js';

const META: MetadataAction = {
  id: 'x',
  format: { provider: 'parquet', options: {} },
  schemaString: '',
  partitionColumns: [],
  configuration: {},
};
const SCHEMA: StructType = {
  type: 'struct',
  fields: [{ name: 'a', type: 'long', nullable: true, metadata: {} }],
};

function gate(
  protocol: ProtocolAction,
  metadata: Partial<MetadataAction> = {},
  schema: StructType = SCHEMA,
): void {
  checkTableFeatures(protocol, { ...META, ...metadata }, schema, [], '/lake/t');
}

describe('feature gate', () => {
  it('accepts default and supported feature tables', () => {
    expect(() => gate({ minReaderVersion: 1, minWriterVersion: 2 })).not.toThrow();
    expect(() =>
      gate(
        { minReaderVersion: 1, minWriterVersion: 4 },
        { configuration: { 'delta.enableChangeDataFeed': 'true' } },
      ),
    ).not.toThrow();
    expect(() =>
      gate({
        minReaderVersion: 3,
        minWriterVersion: 7,
        readerFeatures: ['timestampNtz'],
        writerFeatures: ['timestampNtz', 'appendOnly', 'domainMetadata', 'inCommitTimestamp'],
      }),
    ).not.toThrow();
    // A listed legacy feature that is not in use (column mapping mode none) is harmless.
    expect(() =>
      gate({
        minReaderVersion: 3,
        minWriterVersion: 7,
        readerFeatures: ['columnMapping'],
        writerFeatures: ['columnMapping'],
      }),
    ).not.toThrow();
    expect(() => gate({ minReaderVersion: 2, minWriterVersion: 5 })).not.toThrow();
    // Column mapping mode name is written (delta-column-mapping.ts), legacy or as a table feature.
    expect(() =>
      gate(
        { minReaderVersion: 2, minWriterVersion: 5 },
        { configuration: { 'delta.columnMapping.mode': 'name' } },
      ),
    ).not.toThrow();
    expect(() =>
      gate(
        {
          minReaderVersion: 3,
          minWriterVersion: 7,
          readerFeatures: ['columnMapping', 'timestampNtz'],
          writerFeatures: ['columnMapping', 'timestampNtz'],
        },
        { configuration: { 'delta.columnMapping.mode': 'name' } },
      ),
    ).not.toThrow();
  });

  it('refuses active or unknown features by name', () => {
    expect(() =>
      gate(
        { minReaderVersion: 2, minWriterVersion: 5 },
        { configuration: { 'delta.columnMapping.mode': 'id' } },
      ),
    ).toThrow(/UnsupportedTableFeature: columnMapping mode id \(delta\.columnMapping\.mode\)/);
    expect(() =>
      gate({
        minReaderVersion: 3,
        minWriterVersion: 7,
        readerFeatures: ['v2Checkpoint'],
        writerFeatures: ['v2Checkpoint'],
      }),
    ).toThrow(
      /UnsupportedTableFeature: v2Checkpoint \(readerFeatures\) in Delta table \/lake\/t; supported: appendOnly/,
    );
    expect(() => gate({ minReaderVersion: 1, minWriterVersion: 7, writerFeatures: ['rowTracking'] })).toThrow(
      /rowTracking \(writerFeatures\)/,
    );
    expect(() =>
      gate({
        minReaderVersion: 3,
        minWriterVersion: 7,
        readerFeatures: ['somethingNew'],
        writerFeatures: [],
      }),
    ).toThrow(/somethingNew/);
    expect(() => gate({ minReaderVersion: 4, minWriterVersion: 7 })).toThrow(/readerVersion 4/);
    expect(() =>
      gate(
        { minReaderVersion: 1, minWriterVersion: 3 },
        { configuration: { 'delta.constraints.positive': 'a > 0' } },
      ),
    ).toThrow(/checkConstraints/);
    const generated: StructType = {
      type: 'struct',
      fields: [
        { name: 'a', type: 'long', nullable: true, metadata: { 'delta.generationExpression': 'b + 1' } },
      ],
    };
    expect(() => gate({ minReaderVersion: 1, minWriterVersion: 4 }, {}, generated)).toThrow(
      /generatedColumns/,
    );
    const identity: StructType = {
      type: 'struct',
      fields: [{ name: 'a', type: 'long', nullable: true, metadata: { 'delta.identity.start': 1 } }],
    };
    expect(() => gate({ minReaderVersion: 1, minWriterVersion: 6 }, {}, identity)).toThrow(/identityColumns/);
    const charColumn: StructType = {
      type: 'struct',
      fields: [
        { name: 'a', type: 'string', nullable: true, metadata: { __CHAR_VARCHAR_TYPE_STRING: 'varchar(3)' } },
      ],
    };
    expect(() => gate({ minReaderVersion: 1, minWriterVersion: 2 }, {}, charColumn)).toThrow(/charVarchar/);
    expect(() =>
      gate(
        {
          minReaderVersion: 3,
          minWriterVersion: 7,
          readerFeatures: ['deletionVectors'],
          writerFeatures: ['deletionVectors'],
        },
        { configuration: { 'delta.enableDeletionVectors': 'true' } },
      ),
    ).toThrow(/deletionVectors/);
  });
});

describe('in-commit timestamps', () => {
  it('writes a strictly increasing inCommitTimestamp first in commitInfo', async () => {
    const { dir, cleanup } = await tempDir('ict');
    const staging = await Staging.open();
    const table = join(dir, 't');
    // A clock behind the table's last in-commit timestamp: ours must still increase.
    const destination = new DeltaDestination({
      store: new FileStore(table),
      logger: silentLogger,
      now: () => 1_000,
    });
    try {
      const columns: ColumnSchema[] = [{ name: 'a', type: { kind: 'int64' }, nullable: true }];
      await commitBatch(destination, request(await staging.batch(columns, ['(1)']), 1));
      const v0 = (await readFile(join(table, '_delta_log', '00000000000000000000.json'), 'utf8'))
        .trim()
        .split('\n');
      const meta = v0
        .map((l) => JSON.parse(l) as { metaData?: MetadataAction })
        .find((a) => a.metaData)?.metaData;
      const enable = [
        { commitInfo: { inCommitTimestamp: 5_000, timestamp: 5_000 } },
        {
          protocol: {
            minReaderVersion: 3,
            minWriterVersion: 7,
            readerFeatures: [],
            writerFeatures: ['inCommitTimestamp'],
          },
        },
        { metaData: { ...meta, configuration: { 'delta.enableInCommitTimestamps': 'true' } } },
      ];
      await writeFile(
        join(table, '_delta_log', '00000000000000000001.json'),
        enable.map((a) => JSON.stringify(a)).join('\n') + '\n',
      );
      await commitBatch(destination, request(await staging.batch(columns, ['(2)']), 2));
      const first = JSON.parse(
        (await readFile(join(table, '_delta_log', '00000000000000000002.json'), 'utf8')).split('\n')[0] ??
          '{}',
      ) as {
        commitInfo: Record<string, unknown>;
      };
      expect(Object.keys(first.commitInfo)[0]).toBe('inCommitTimestamp');
      expect(first.commitInfo.inCommitTimestamp).toBe(5_001);
    } finally {
      await destination.close();
      staging.close();
      await cleanup();
    }
  });
});

describe('protocolFor', () => {
  const schema = (types: string[], nullable = true): StructType => ({
    type: 'struct',
    fields: types.map((type, i) => ({ name: `c${i}`, type, nullable, metadata: {} })),
  });

  it('creates plain 1/2, column-mapped 2/5, and 3/7 tables listing columnMapping beside timestampNtz', () => {
    expect(protocolFor(undefined, schema(['long']))).toEqual({ minReaderVersion: 1, minWriterVersion: 2 });
    expect(protocolFor(undefined, schema(['long']), { columnMapping: true })).toEqual({
      minReaderVersion: 2,
      minWriterVersion: 5,
    });
    expect(protocolFor(undefined, schema(['timestamp_ntz'], false), { columnMapping: true })).toEqual({
      minReaderVersion: 3,
      minWriterVersion: 7,
      readerFeatures: ['columnMapping', 'timestampNtz'],
      writerFeatures: ['invariants', 'columnMapping', 'timestampNtz'],
    });
  });

  it('keeps a protocol that already allows what the table needs, and lists what is missing', () => {
    expect(
      protocolFor({ minReaderVersion: 2, minWriterVersion: 5 }, schema(['long']), { columnMapping: true }),
    ).toBeUndefined();
    expect(
      protocolFor({ minReaderVersion: 2, minWriterVersion: 6 }, schema(['timestamp_ntz']), {
        columnMapping: true,
      }),
    ).toEqual({
      minReaderVersion: 3,
      minWriterVersion: 7,
      readerFeatures: ['columnMapping', 'timestampNtz'],
      writerFeatures: [
        'appendOnly',
        'invariants',
        'checkConstraints',
        'changeDataFeed',
        'generatedColumns',
        'columnMapping',
        'identityColumns',
        'timestampNtz',
      ],
    });
    const features = {
      minReaderVersion: 3,
      minWriterVersion: 7,
      readerFeatures: ['timestampNtz'],
      writerFeatures: ['timestampNtz'],
    };
    expect(protocolFor(features, schema(['long']), { columnMapping: true })).toEqual({
      ...features,
      readerFeatures: ['timestampNtz', 'columnMapping'],
      writerFeatures: ['timestampNtz', 'columnMapping'],
    });
    expect(
      protocolFor({ minReaderVersion: 1, minWriterVersion: 7, writerFeatures: [] }, schema(['long']), {
        columnMapping: true,
      }),
    ).toEqual({ minReaderVersion: 2, minWriterVersion: 7, writerFeatures: ['columnMapping'] });
  });
});
