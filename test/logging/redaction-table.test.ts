import { describe, expect, it } from 'vitest';
import { runWithContext, type TelemetryContext } from '../../src/context.js';
import { EXOTIC_CASES, KEY_CASES, STRING_CASES, type AdversarialCase } from './adversarial.js';
import { oneLine, testLogger } from './fixtures.js';

/** Every key and every primitive value of a parsed line, one per line. */
function allText(value: unknown, out: string[] = []): string[] {
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      allText(v, out);
    }
  } else out.push(String(value));
  return out;
}

function run(c: AdversarialCase): void {
  const t = testLogger(c.setup);
  const line = oneLine(t, (logger) =>
    c.context ? runWithContext(c.context as TelemetryContext, () => c.log(logger)) : c.log(logger),
  );
  const raw = t.capture.text();
  const text = allText(line).join('\n');
  for (const secret of c.secrets) {
    expect(raw, `secret ${JSON.stringify(secret.slice(0, 40))} in the raw line`).not.toContain(
      secret,
    );
    expect(text, `secret ${JSON.stringify(secret.slice(0, 40))} in a parsed value`).not.toContain(
      secret,
    );
  }
  for (const kept of c.keep) {
    expect(text, `${JSON.stringify(kept)} lost`).toContain(kept);
  }
}

const ALL = [...KEY_CASES, ...STRING_CASES, ...EXOTIC_CASES];

describe('redaction through the real logger (adversarial table)', () => {
  it('has at least 50 records', () => {
    expect(ALL.length).toBeGreaterThanOrEqual(50);
  });

  describe('secret keys at any depth and in any shape', () => {
    it.each(KEY_CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => run(c));
  });

  describe('secrets inside strings', () => {
    it.each(STRING_CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => run(c));
  });

  describe('errors and exotic values', () => {
    it.each(EXOTIC_CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => run(c));
  });
});
