/**
 * An in-memory stand-in for the Postgres tables the tracing examples write,
 * shaped like a Drizzle client (`db.transaction`, `tx.insert(table).values()`),
 * so that the examples compile and run without a database. Not part of
 * stacklight: use your own client.
 */
import type { EventEnvelope } from 'stacklight';

/** A row of `reflections`. */
export interface ReflectionRow {
  id: number;
  tradeId: string;
  text: string;
}

/** A row of `event_outbox`: the envelope is stored as is (`jsonb`). */
export interface OutboxRow {
  id: number;
  type: string;
  body: EventEnvelope;
  createdAt: Date;
}

/** A table: rows in id order, and listeners of committed inserts (LISTEN/NOTIFY). */
export class Table<Row extends { id: number }, Insert> {
  readonly rows: Row[] = [];
  private nextId = 1;
  private readonly listeners = new Set<(row: Row) => void>();
  private readonly build: (values: Insert, id: number) => Row;

  constructor(build: (values: Insert, id: number) => Row) {
    this.build = build;
  }

  /** Rows with an id above `afterId`, oldest first (`WHERE id > $1 ORDER BY id`). */
  after(afterId: number): Row[] {
    return this.rows.filter((row) => row.id > afterId);
  }

  /** Calls `listener` with every row committed from now on; returns the unsubscribe. */
  onInsert(listener: (row: Row) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A row with the next id (like a sequence, an id is never reused, even after a rollback). */
  create(values: Insert): Row {
    return this.build(values, this.nextId++);
  }

  commit(row: Row): void {
    this.rows.push(row);
    for (const listener of this.listeners) listener(row);
  }
}

export const reflections = new Table<ReflectionRow, Omit<ReflectionRow, 'id'>>((values, id) => ({
  id,
  ...values,
}));

export const eventOutbox = new Table<OutboxRow, Omit<OutboxRow, 'id' | 'createdAt'>>(
  (values, id) => ({ id, ...values, createdAt: new Date() }),
);

/** A transaction: inserts become visible when it commits. */
export interface Tx {
  insert<Row extends { id: number }, Insert>(
    table: Table<Row, Insert>,
  ): { values(values: Insert): Promise<Row> };
}

export const db = {
  /** Runs `fn`; its inserts are committed when it resolves and dropped when it rejects. */
  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const pending: (() => void)[] = [];
    const tx: Tx = {
      insert: (table) => ({
        values: async (values) => {
          const row = table.create(values);
          pending.push(() => table.commit(row));
          return row;
        },
      }),
    };
    const result = await fn(tx);
    for (const commit of pending) commit();
    return result;
  },
};
