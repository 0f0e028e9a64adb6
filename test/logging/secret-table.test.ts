import { describe, expect, it } from 'vitest';
import {
  allText,
  LOOK_ALIKES,
  SECRET_STRINGS,
  SECRET_VALUES,
  type StringCase,
  type ValueCase,
} from '../helpers/secret-cases.js';
import { oneLine, testLogger } from './fixtures.js';

const t = testLogger();

function check(raw: string, parsed: unknown, c: StringCase | ValueCase): void {
  const text = allText(parsed).join('\n');
  for (const secret of c.secrets) {
    expect(raw, `${JSON.stringify(secret)} in the raw line`).not.toContain(
      JSON.stringify(secret).slice(1, -1),
    );
    expect(text, `${JSON.stringify(secret)} in a parsed value`).not.toContain(secret);
  }
  for (const kept of c.keep) expect(text, `${JSON.stringify(kept)} lost`).toContain(kept);
}

describe('the log line exit, through the shared secret table', () => {
  it.each(SECRET_STRINGS.map((c) => [c.name, c] as const))('scrubs %s as a message', (_n, c) => {
    const line = oneLine(t, (l) => l.info(c.text));
    check(t.capture.text(), line, c);
  });

  it.each(SECRET_STRINGS.map((c) => [c.name, c] as const))('scrubs %s in a field', (_n, c) => {
    const line = oneLine(t, (l) => l.info({ detail: c.text, route: c.text }, 'm'));
    check(t.capture.text(), line, c);
  });

  it.each(SECRET_STRINGS.map((c) => [c.name, c] as const))(
    'scrubs %s in an error message',
    (_n, c) => {
      const line = oneLine(t, (l) => l.error({ err: new Error(c.text) }, 'failed'));
      check(t.capture.text(), line, c);
    },
  );

  it.each(SECRET_VALUES.map((c) => [c.name, c] as const))('scrubs %s', (_n, c) => {
    const line = oneLine(t, (l) => l.info({ payload: c.value }, 'm'));
    check(t.capture.text(), line, c);
  });

  it.each(LOOK_ALIKES)('keeps %j as it is', (text) => {
    const line = oneLine(t, (l) => l.info({ detail: text }, text));
    expect(line['msg']).toBe(text);
    expect((line['extra'] as Record<string, unknown>)['detail']).toBe(text);
  });
});
