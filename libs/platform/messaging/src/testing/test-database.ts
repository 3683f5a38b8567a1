import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';

export interface TestDatabase {
  name: string;
  dataSource: DataSource;
  drop(): Promise<void>;
}

const connection = {
  type: 'postgres',
  host: process.env['PGHOST'] ?? '127.0.0.1',
  port: Number(process.env['PGPORT'] ?? 5432),
  username: process.env['PGUSER'] ?? 'postgres',
} as const;

/** A throw-away database per test file, so suites run in parallel. `poolSize: 1` mimics the embedded PGlite mode. */
export async function createTestDatabase(options: { poolSize?: number } = {}): Promise<TestDatabase> {
  const name = `t_msg_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const dataSource = new DataSource({ ...connection, database: name, extra: { max: options.poolSize ?? 10 } });
  await dataSource.initialize();
  return {
    name,
    dataSource,
    drop: async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

async function adminQuery(sql: string): Promise<void> {
  const admin = new DataSource({ ...connection, database: 'postgres', extra: { max: 1 } });
  await admin.initialize();
  try {
    await admin.query(sql);
  } finally {
    await admin.destroy();
  }
}
