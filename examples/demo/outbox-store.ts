/**
 * Core's outbox table: PostgreSQL when one answers on DATABASE_URL (a table
 * in a schema of its own, dropped on close), else an in-memory list. Either
 * way new rows are announced to the SSE streams of this process.
 * Not part of stacklight: the outbox helper only builds and counts the envelope.
 */
import { AsyncResource } from 'node:async_hooks';
import pg from 'pg';
import type { EventEnvelope } from 'stacklight';

export interface OutboxRow {
  id: number;
  body: EventEnvelope;
  createdAt: Date;
}

export interface OutboxStore {
  /** `postgres (schema …)` or `memory`. */
  readonly kind: string;
  insert(envelope: EventEnvelope): Promise<OutboxRow>;
  /** Rows after `id`, oldest first (a reconnect's Last-Event-ID). */
  after(id: number): Promise<OutboxRow[]>;
  /** Calls `listener` with every row inserted from now on; returns the unsubscribe. */
  onInsert(listener: (row: OutboxRow) => void): () => void;
  close(): Promise<void>;
}

export async function openOutboxStore(
  url: string | undefined,
  schema: string,
): Promise<OutboxStore> {
  const listeners = new Set<(row: OutboxRow) => void>();
  // Like a NOTIFY after the commit, listeners run outside the writer's
  // context: an SSE send is linked to the `outbox.append`, not its child.
  const detached = new AsyncResource('outbox-notify');
  const announce = (row: OutboxRow) => {
    setImmediate(() =>
      detached.runInAsyncScope(() => listeners.forEach((listener) => listener(row))),
    );
    return row;
  };
  const onInsert = (listener: (row: OutboxRow) => void) => {
    listeners.add(listener);
    return () => void listeners.delete(listener);
  };
  const pool = url ? await connect(url) : undefined;
  if (pool === undefined) {
    const rows: OutboxRow[] = [];
    return {
      kind: 'memory',
      insert: async (body) =>
        announce(rows[rows.push({ id: rows.length + 1, body, createdAt: new Date() }) - 1]!),
      after: async (id) => rows.slice(id),
      onInsert,
      close: async () => undefined,
    };
  }
  const table = `"${schema}".event_outbox`;
  await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  await pool.query(
    `CREATE TABLE IF NOT EXISTS ${table} (id bigserial PRIMARY KEY, type text NOT NULL, body jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
  );
  const toRow = (r: { id: string; body: EventEnvelope; created_at: Date }): OutboxRow => ({
    id: Number(r.id),
    body: r.body,
    createdAt: r.created_at,
  });
  return {
    kind: `postgres (schema ${schema})`,
    async insert(body) {
      const { rows } = await pool.query(
        `INSERT INTO ${table} (type, body) VALUES ($1, $2) RETURNING id, body, created_at`,
        [body.type, body],
      );
      return announce(toRow(rows[0]));
    },
    async after(id) {
      const { rows } = await pool.query(
        `SELECT id, body, created_at FROM ${table} WHERE id > $1 ORDER BY id`,
        [id],
      );
      return rows.map(toRow);
    },
    onInsert,
    async close() {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await pool.end();
    },
  };
}

/** A pool when the database answers within a second, else undefined. */
async function connect(url: string): Promise<pg.Pool | undefined> {
  const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 1000, max: 4 });
  pool.on('error', () => undefined); // a dropped idle connection is replaced on the next query
  try {
    await pool.query('SELECT 1');
    return pool;
  } catch {
    await pool.end().catch(() => undefined);
    return undefined;
  }
}
