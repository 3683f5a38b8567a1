import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { assertSchemaName } from './schema-name.js';

export interface EmbeddedPostgresOptions {
  /** Directory for the data (created if missing), or `memory://` for a throwaway database. */
  dataDir: string;
  /** Session `search_path`, e.g. `['config_manager', 'public']`. */
  searchPath?: readonly string[];
  applicationName?: string;
}

export interface EmbeddedPostgres {
  /** `postgres://` URL of the socket server, for `pg` and TypeORM. Use ONE connection (see openDatabase). */
  url: string;
  close(): Promise<void>;
}

/*
 * The server accepts a few sockets although clients must use one connection: when a pooled connection is dropped
 * and replaced, the replacement can arrive before the server has processed the old socket's close, and at the
 * library's default of 1 it would be turned away ("Connection terminated unexpectedly").
 */
const SOCKET_SLOTS = 4;

/**
 * One PGlite (with pgvector) served over the Postgres wire protocol on an ephemeral loopback port.
 * PGlite is a single backend session that every socket shares: it answers the startup message itself, so
 * startup parameters (`options`, `application_name`) are ignored and session settings are SET here instead.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  if (!options.dataDir.startsWith('memory://')) await mkdir(options.dataDir, { recursive: true });
  const db = await PGlite.create(options.dataDir, { extensions: { vector } });
  try {
    await db.exec('CREATE EXTENSION IF NOT EXISTS vector');
    if (options.searchPath?.length) {
      options.searchPath.forEach(assertSchemaName);
      await db.exec(`SET search_path TO ${options.searchPath.join(', ')}`);
    }
    if (options.applicationName) await db.query('SELECT set_config($1, $2, false)', ['application_name', options.applicationName]);
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: SOCKET_SLOTS });
    await server.start();
    // The bound port is private; getServerConn() is the public way to read it ("host:port").
    const port = Number(server.getServerConn().split(':').at(-1));
    if (!Number.isInteger(port) || port <= 0) {
      await server.stop();
      throw new Error(`embedded PostgreSQL did not report its port (got "${server.getServerConn()}")`);
    }
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      close: async () => {
        await server.stop();
        await db.close();
      },
    };
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error;
  }
}
