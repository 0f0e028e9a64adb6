/**
 * sonic-boom internals stacklight reads (not sonic-boom's public API), on a
 * `pino.destination()` a service passes as `logging.destination`:
 *
 * - `_len` — bytes not written yet, the write in flight included;
 * - `_writing` — an asynchronous write is in flight.
 *
 * logging/flush.ts reads them so that `flush()` (and `shutdown()`) wait
 * until every line logged before the call is written: sonic-boom's own
 * `flush(cb)` calls back at once while a write is in flight (`minLength` 0),
 * or at the first `drain` while bytes below `minLength` stay buffered.
 *
 * They are read only on instances of the sonic-boom copy pino loads, and only
 * when its version is in the tested range. Public path otherwise: pino's
 * `logger.flush(cb)` (sonic-boom's `flush(cb)`), once; what is still in
 * flight then is written by sonic-boom's own exit handler.
 */
import { createRequire } from 'node:module';
import { installedVersion, lazyGuard, type GuardSpec } from './guard.js';

/** The sonic-boom versions (as pino depends on them) CI runs the fast flush on. */
export const SONIC_BOOM: GuardSpec = {
  name: 'sonic-boom',
  tested: [{ from: '4.0.0', below: '5.0.0' }],
  fastPath: 'the exact flush of a pino.destination()',
  publicPath: "sonic-boom's own flush(cb)",
  consequence: 'flush() may resolve before the write in flight lands; sonic-boom writes it at exit',
};

/** Where pino resolves its dependencies from. */
function pinoBase(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve('pino');
  } catch {
    return undefined;
  }
}

/** The decision for the sonic-boom pino uses (read once). */
export const sonicBoomGuard = lazyGuard(SONIC_BOOM, () => {
  const base = pinoBase();
  return base === undefined ? undefined : installedVersion('sonic-boom', base);
});

let sonicBoomClass: unknown;

/** Whether `stream` is an instance of the sonic-boom copy pino loads (the checked one). */
export function isPinoSonicBoom(stream: unknown): boolean {
  if (stream === null || typeof stream !== 'object') return false;
  if (sonicBoomClass === undefined) {
    try {
      const base = pinoBase();
      sonicBoomClass = base === undefined ? null : createRequire(base)('sonic-boom');
    } catch {
      sonicBoomClass = null;
    }
  }
  return typeof sonicBoomClass === 'function' && stream instanceof sonicBoomClass;
}
