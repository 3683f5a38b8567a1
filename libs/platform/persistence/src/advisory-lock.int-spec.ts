import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '@llmops/platform-testing';
import { withAdvisoryLock } from './advisory-lock.js';
import { openDatabase, type Database } from './database.js';

describe(withAdvisoryLock.name, () => {
  let testDatabase: TestDatabase;
  let a: Database;
  let b: Database;

  beforeAll(async () => {
    testDatabase = await createTestDatabase({ prefix: 'advisory_lock' });
    const options = { service: 'locks', schema: 'locks', url: testDatabase.url, entities: [], migrations: [] };
    [a, b] = await Promise.all([openDatabase(options), openDatabase(options)]);
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await testDatabase?.drop();
  });

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const heldAdvisoryLocks = async (db: Database): Promise<number> =>
    (await db.dataSource.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted`))[0].n;

  it('lets one holder at a time in, across connection pools', async () => {
    const events: string[] = [];
    const hold = (name: string, db: Database) =>
      withAdvisoryLock(db.dataSource, 'spec:same', async () => {
        events.push(`${name} in`);
        await sleep(100);
        events.push(`${name} out`);
      });
    await Promise.all([hold('a', a), hold('b', b)]);
    expect([events.slice(0, 2), events.slice(2)]).toEqual(
      events[0] === 'a in' ? [['a in', 'a out'], ['b in', 'b out']] : [['b in', 'b out'], ['a in', 'a out']],
    );
  });

  it('does not make holders of different names wait for each other', async () => {
    let release!: () => void;
    const bInside = new Promise<void>((resolve) => (release = resolve));
    // A waits inside its lock until B is inside its own; serialized locks would time the test out.
    await Promise.all([
      withAdvisoryLock(a.dataSource, 'spec:first', () => bInside),
      withAdvisoryLock(b.dataSource, 'spec:second', async () => release()),
    ]);
  }, 5_000);

  it('hands fn the connection that holds the lock, and unlocks when fn throws', async () => {
    await expect(
      withAdvisoryLock(a.dataSource, 'spec:throws', async (queryRunner) => {
        const mine = await queryRunner.query(
          `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted`,
        );
        expect(mine).toEqual([{ n: 1 }]);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await heldAdvisoryLocks(b)).toBe(0);
    await withAdvisoryLock(b.dataSource, 'spec:throws', async () => undefined);
  });
});
