import { fstatSync, readFileSync, write as fsWrite, writeSync } from 'node:fs';

/** Why lines were dropped by the default destination. */
export type LogDropReason = 'buffer_full' | 'write_failed' | 'write_timeout';

/** Options of {@link BatchedFdWriter}. */
export interface BatchedFdWriterOptions {
  /** File descriptor to write to (1: stdout). */
  fd: number;
  /** A write starts as soon as this many bytes are pending (and none is in flight). */
  flushBytes: number;
  /** What stays below `flushBytes` is written after at most this many ms. */
  flushIntervalMs: number;
  /**
   * Most bytes held while the fd does not keep up (a slow pipe, a reader
   * that stopped); lines beyond it are dropped and counted.
   */
  maxBufferedBytes: number;
  /** Called with the number of lines dropped and why. */
  onDrop?: (reason: LogDropReason, lines: number) => void;
}

/** A flush waiting for the bytes accepted before it to leave. */
interface Waiter {
  until: number;
  cb: (err?: Error | null) => void;
}

const EMPTY = Buffer.alloc(0);

/** How long to wait before writing again after `EAGAIN` (a non-blocking pipe that is full). */
const RETRY_MS = 10;

/**
 * The default log destination: lines are encoded straight into a byte
 * buffer and leave in one asynchronous `write(2)` per batch.
 *
 * Why not pino's sonic-boom with `minLength`: it keeps pending lines as one
 * growing string and measures it with `Buffer.byteLength` on every write,
 * which flattens that string each time — the cost of a line grows with the
 * batch (measured 0.9 µs per 320-byte line at 4 KiB batches, 2.1 µs at
 * 16 KiB, against 0.36–0.38 µs here whatever the batch). Here a line costs one
 * UTF-8 encode into preallocated memory.
 *
 * Behaviour:
 * - asynchronous: a batch goes to libuv's threadpool, so a slow stdout pipe
 *   never blocks the event loop; one batch is in flight at a time and lines
 *   go on filling a second buffer meanwhile;
 * - a batch leaves when `flushBytes` are pending, or `flushIntervalMs`
 *   after the first line of a quiet period;
 * - memory is bounded by `maxBufferedBytes`: beyond it lines are dropped and
 *   counted (`buffer_full`), never held without limit;
 * - a failed write (EPIPE: the reader is gone, EBADF…) drops what it held
 *   and every later line, counted (`write_failed`); `EAGAIN` is retried;
 * - `flushSync()` (pino calls it after every `fatal` line) and the process
 *   `exit` handler write everything pending synchronously; `flush(cb)` calls
 *   back once every byte accepted before the call has been written.
 *
 * Never throws into the logging call and emits no `error` event: a broken
 * stdout costs log lines (counted), not the service.
 */
export class BatchedFdWriter {
  private readonly fd: number;
  private readonly flushBytes: number;
  private readonly flushIntervalMs: number;
  private readonly maxBufferedBytes: number;
  private readonly onDrop: ((reason: LogDropReason, lines: number) => void) | undefined;

  /** Where lines are encoded. */
  private buf: Buffer;
  private pos = 0;
  private lines = 0;
  /** The batch in flight: bytes [`offset`, `end`) of `writing`. */
  private writing: Buffer = EMPTY;
  private writingOffset = 0;
  private writingEnd = 0;
  private writingLines = 0;
  private inFlight = false;
  /** The buffer of the last batch, reused for the next one. */
  private spare: Buffer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failed = false;
  /** Bytes accepted and bytes done with (written or dropped), ever. */
  private accepted = 0;
  private settled = 0;
  private waiters: Waiter[] = [];
  private readonly onWritten: (err: NodeJS.ErrnoException | null, n: number) => void;
  private readonly onTimer: () => void;
  private readonly onRetry: () => void;
  /** Set while a batch waits to be retried after `EAGAIN`. */
  private retry: NodeJS.Timeout | undefined;
  /**
   * Set when a synchronous write gave up on a full pipe; cleared when an
   * asynchronous write gets through. While set, synchronous writes do not
   * wait again: a fatal line and the exit flush after it share one bound.
   */
  private stalled = false;
  /** After shutdown: pending lines no longer keep the process alive. */
  private released = false;
  private readonly ref: WeakRef<BatchedFdWriter>;

  constructor(options: BatchedFdWriterOptions) {
    this.fd = options.fd;
    this.flushBytes = options.flushBytes;
    this.flushIntervalMs = options.flushIntervalMs;
    this.maxBufferedBytes = options.maxBufferedBytes;
    this.onDrop = options.onDrop;
    this.buf = Buffer.allocUnsafeSlow(this.capacity());
    this.onWritten = (err, n) => this.written(err, n);
    this.onRetry = () => {
      this.retry = undefined;
      this.issue();
    };
    this.onTimer = () => {
      this.timer = undefined;
      if (!this.inFlight && this.pos > 0) this.startWrite();
    };
    preferNonBlocking(this.fd);
    this.ref = new WeakRef(this);
    liveWriters.add(this.ref);
    forget.register(this, this.ref);
    registerExitHandler();
  }

  /**
   * Size of a fresh buffer: room for a batch plus as much again arriving
   * while one is in flight (a burst beyond it grows the buffer). With the
   * stdout defaults, two buffers of 128 KiB.
   */
  private capacity(): number {
    return Math.min(Math.max(this.flushBytes * 2, 16 * 1024), this.maxBufferedBytes);
  }

  /** Bytes not written yet (in flight included). */
  get pending(): number {
    return this.accepted - this.settled;
  }

  /** Takes one line (pino writes whole lines, newline included). Always returns `true`. */
  write(line: string): boolean {
    if (this.failed) {
      this.drop('write_failed', 1);
      return true;
    }
    // Worst case UTF-8: 3 bytes per UTF-16 unit; the exact size only when it matters.
    let room = line.length * 3;
    if (this.pending + room > this.maxBufferedBytes || this.pos + room > this.buf.length) {
      room = Buffer.byteLength(line);
      if (this.pending + room > this.maxBufferedBytes) {
        this.drop('buffer_full', 1);
        return true;
      }
      if (this.pos + room > this.buf.length) this.makeRoom(room);
    }
    const n = this.buf.write(line, this.pos);
    this.pos += n;
    this.lines += 1;
    this.accepted += n;
    if (!this.inFlight) {
      if (this.pos >= this.flushBytes) this.startWrite();
      else if (this.timer === undefined) this.armTimer();
    }
    return true;
  }

  /**
   * Calls back once every byte accepted before the call has been written
   * (or dropped: then with an error). Never synchronously.
   */
  flush(cb?: (err?: Error | null) => void): void {
    const done = cb ?? noop;
    if (this.pending <= 0) {
      process.nextTick(done, this.failed ? destinationFailed() : null);
      return;
    }
    this.waiters.push({ until: this.accepted, cb: done });
    if (!this.inFlight) this.startWrite();
  }

  /**
   * Writes everything pending now, synchronously (after `fatal`, at exit).
   * A batch waiting to be retried after `EAGAIN` is written first. A batch
   * whose write is with the threadpool right now is left to it; what came
   * after it is written here, so it can arrive before that batch. A pipe
   * that stays full for a second keeps the rest for later writes.
   */
  flushSync(): void {
    if (this.failed) return;
    this.cancelTimer();
    let retried = false;
    try {
      if (this.retry !== undefined) {
        clearTimeout(this.retry);
        this.retry = undefined;
        retried = true;
        const to = this.writeAllSync(this.writing, this.writingOffset, this.writingEnd);
        this.settle(to - this.writingOffset);
        this.writingOffset = to;
        if (to < this.writingEnd) {
          // Still full: keep the order, retry later.
          this.retry = setTimeout(this.onRetry, RETRY_MS);
          if (this.released) this.retry.unref();
          return;
        }
        this.doneWriting();
        retried = false;
      }
      if (this.pos > 0) {
        const to = this.writeAllSync(this.buf, 0, this.pos);
        this.settle(to);
        if (to < this.pos) {
          this.buf.copy(this.buf, 0, to, this.pos);
          this.pos -= to;
          this.armTimer();
        } else {
          this.pos = 0;
          this.lines = 0;
        }
      }
    } catch {
      // Lost: the retried batch if it failed, and everything still held.
      this.fail(retried ? this.writingLines : 0);
    }
  }

  /**
   * Called at the end of `shutdown()`, after the flush had its time: lines
   * still pending (a stalled reader) no longer keep the process alive, and
   * the exit flush does not wait for the pipe again. Writing goes on while
   * the process lives.
   */
  release(): void {
    this.released = true;
    this.retry?.unref();
    if (this.pending > 0) this.stalled = true;
  }

  /**
   * At process exit, after the last `flushSync()`: what is still pending
   * (the pipe stayed full for a second) will never be written; count it.
   */
  dropPendingAtExit(): void {
    if (this.failed) return;
    const lines = this.lines + (this.inFlight || this.retry !== undefined ? this.writingLines : 0);
    if (lines > 0) this.drop('write_timeout', lines);
  }

  /**
   * `writeSync` from `from` to `to`; returns where it got. On `EAGAIN` (a
   * full non-blocking pipe) it waits for the reader, up to a second in all.
   * The fd is non-blocking whenever it is a pipe or a socket (see
   * `preferNonBlocking`), so a stalled reader costs at most that second.
   * @throws the error of a write that failed otherwise
   */
  private writeAllSync(buf: Buffer, from: number, to: number): number {
    let offset = from;
    let waitedMs = 0;
    while (offset < to) {
      try {
        offset += writeSync(this.fd, buf, offset, to - offset);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
        if (this.stalled || waitedMs >= SYNC_WRITE_BOUND_MS) {
          this.stalled = true;
          break;
        }
        sleepMs(RETRY_MS);
        waitedMs += RETRY_MS;
      }
    }
    return offset;
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private armTimer(): void {
    this.timer = setTimeout(this.onTimer, this.flushIntervalMs);
    this.timer.unref();
  }

  /**
   * Makes room for `room` more bytes in the fill buffer: starts a write if
   * none is in flight, else grows the buffer (the caller has checked that
   * everything pending stays within `maxBufferedBytes`).
   */
  private makeRoom(room: number): void {
    if (!this.inFlight && this.pos > 0) this.startWrite();
    const need = this.pos + room;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafeSlow(Math.min(size, Math.max(need, this.maxBufferedBytes)));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Hands the fill buffer to the threadpool and fills the spare one meanwhile. */
  private startWrite(): void {
    if (this.pos === 0 || this.failed) return;
    this.cancelTimer();
    this.writing = this.buf;
    this.writingOffset = 0;
    this.writingEnd = this.pos;
    this.writingLines = this.lines;
    this.inFlight = true;
    const spare = this.spare;
    this.spare = undefined;
    this.buf = spare ?? Buffer.allocUnsafeSlow(this.capacity());
    this.pos = 0;
    this.lines = 0;
    this.issue();
  }

  private issue(): void {
    fsWrite(
      this.fd,
      this.writing,
      this.writingOffset,
      this.writingEnd - this.writingOffset,
      null,
      this.onWritten,
    );
  }

  private written(err: NodeJS.ErrnoException | null, n: number): void {
    if (this.failed) return; // a batch that was with the threadpool when the fd failed
    if (err !== null) {
      if (err.code === 'EAGAIN') {
        // A full non-blocking pipe. Ref'd: lines not written yet keep the
        // process alive, as a write in flight does.
        this.retry = setTimeout(this.onRetry, RETRY_MS);
        if (this.released) this.retry.unref();
        return;
      }
      this.fail(this.writingLines);
      return;
    }
    this.stalled = false;
    this.writingOffset += n;
    this.settle(n);
    if (this.writingOffset < this.writingEnd) {
      this.issue(); // a partial write: the rest
      return;
    }
    this.doneWriting();
    if (this.pos >= this.flushBytes || (this.pos > 0 && this.waiters.length > 0)) {
      this.startWrite();
    } else if (this.pos > 0 && this.timer === undefined) this.armTimer();
  }

  /** The batch in flight is written: its buffer becomes the spare. */
  private doneWriting(): void {
    this.inFlight = false;
    // Keep the buffer for the next batch unless it grew for a burst.
    if (this.writing.length === this.capacity()) this.spare = this.writing;
    this.writing = EMPTY;
    this.writingOffset = this.writingEnd = this.writingLines = 0;
  }

  /** `bytes` more are done with; calls back the flushes they complete. */
  private settle(bytes: number): void {
    this.settled += bytes;
    if (this.waiters.length === 0) return;
    const error = this.failed ? destinationFailed() : null;
    const left: Waiter[] = [];
    for (const w of this.waiters) {
      if (this.settled >= w.until) w.cb(error);
      else left.push(w);
    }
    this.waiters = left;
  }

  /**
   * The fd is unusable: drops what is held (plus `linesLost` of a failed
   * batch) and every later line, and releases every flush with an error.
   */
  private fail(linesLost: number): void {
    this.failed = true;
    this.cancelTimer();
    if (this.retry !== undefined) clearTimeout(this.retry);
    this.retry = undefined;
    const lines = linesLost + this.lines;
    this.pos = this.lines = 0;
    this.inFlight = false;
    this.writing = EMPTY;
    this.spare = undefined;
    liveWriters.delete(this.ref);
    this.drop('write_failed', lines);
    this.settled = this.accepted;
    const waiters = this.waiters;
    this.waiters = [];
    const error = destinationFailed();
    for (const w of waiters) w.cb(error);
  }

  private drop(reason: LogDropReason, lines: number): void {
    if (lines <= 0 || this.onDrop === undefined) return;
    try {
      this.onDrop(reason, lines);
    } catch {
      // A counter that throws must not take the log call down.
    }
  }
}

function noop(): void {}

/** What a flush reports once the fd has failed (its lines are counted as dropped). */
function destinationFailed(): Error {
  return new Error(
    'log destination failed: lines were dropped (stacklight_log_lines_dropped_total)',
  );
}

/** Longest a synchronous write (fatal line, exit flush) waits for a full pipe. */
export const SYNC_WRITE_BOUND_MS = 1000;

/**
 * Makes stdout/stderr non-blocking when they are a pipe or a socket, so that
 * no synchronous write can block for as long as a stalled reader: a full
 * pipe then answers `EAGAIN`, which the writers retry for a bounded time.
 *
 * A pipe or socket handed to a process is often blocking (a parent, a
 * container runtime), and a blocking `write(2)` into a full pipe cannot be
 * bounded from JavaScript. Node makes fd 1 and 2 non-blocking itself when
 * `process.stdout`/`process.stderr` are first used on a pipe (libuv opens
 * them as pipe handles); using them once here does exactly that, through
 * the public API. Files and terminals are left as they are.
 */
export function preferNonBlocking(fd: number): void {
  if (fd !== 1 && fd !== 2) return;
  try {
    const st = fstatSync(fd);
    if (!st.isFIFO() && !st.isSocket()) return;
    // The getter creates the stream and with it the non-blocking pipe handle.
    void (fd === 1 ? process.stdout : process.stderr).writable;
  } catch {
    // No such fd (closed stdout): writes fail with EBADF and are counted.
  }
}

/**
 * Whether `fd` is in blocking mode, where the system says (Linux's
 * /proc/self/fdinfo); `undefined` elsewhere. For tests and diagnostics.
 */
export function fdIsBlocking(fd: number): boolean | undefined {
  try {
    const info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    const flags = /^flags:\s*([0-7]+)/m.exec(info);
    return flags === null ? undefined : (parseInt(flags[1]!, 8) & 0o4000) === 0;
  } catch {
    return undefined;
  }
}

/** Blocks the thread for `ms` (only on the synchronous exit/fatal path). */
function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Writers to flush at exit, held weakly: a writer with lines pending is
 * reachable anyway (its timer or its write in flight holds it), and one that
 * is not in use must not be kept alive by this set.
 */
const liveWriters = new Set<WeakRef<BatchedFdWriter>>();
const forget = new FinalizationRegistry<WeakRef<BatchedFdWriter>>((ref) => liveWriters.delete(ref));
let exitHandlerRegistered = false;

function registerExitHandler(): void {
  if (exitHandlerRegistered) return;
  exitHandlerRegistered = true;
  process.on('exit', () => {
    for (const ref of liveWriters) {
      const writer = ref.deref();
      writer?.flushSync();
      writer?.dropPendingAtExit();
    }
  });
}
