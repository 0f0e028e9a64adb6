import type pino from 'pino';
import type { LoggerSetup } from '../../src/logging/index.js';

/**
 * One adversarial record: a log call that carries `secrets` (none may reach
 * the output) next to `keep` data (all must survive, as a substring of some
 * key or value of the parsed line).
 */
export interface AdversarialCase {
  name: string;
  log: (logger: pino.Logger) => void;
  secrets: string[];
  keep: string[];
  setup?: Partial<LoggerSetup>;
  /** Run inside this request context. */
  context?: Record<string, unknown>;
}

export { KEY_CASES } from './adversarial-keys.js';
export { STRING_CASES } from './adversarial-strings.js';
export { EXOTIC_CASES } from './adversarial-exotic.js';
