/**
 * The span exit of the scrubbing engine, through the shared secret table:
 * spans made with `telemetry.tracer` go through `init()`'s provider, the
 * batch processor and the OTLP encoder to a real local receiver, and a
 * span processor a service adds sees them already scrubbed.
 */
import { SpanStatusCode, type Span } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { init, type Telemetry } from '../../src/index.js';
import { createLogCapture } from '../helpers/log-capture.js';
import {
  collectEnded,
  startOtlpReceiver,
  type OtlpReceiver,
  type OtlpSpan,
} from '../helpers/otlp-receiver.js';
import { LOOK_ALIKES, SECRET_STRINGS, SECRET_VALUES } from '../helpers/secret-cases.js';

let receiver: OtlpReceiver;
let telemetry: Telemetry | undefined;
const seen: ReadableSpan[] = [];
const userProcessor = collectEnded(seen);

beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterAll(() => receiver.close());
afterEach(async () => {
  await telemetry?.shutdown();
  telemetry = undefined;
  seen.length = 0;
});

function start(env: string, stackTraces?: boolean): Telemetry {
  telemetry = init({
    service: 'edge',
    env,
    logging: { destination: createLogCapture().stream },
    metrics: { defaultMetrics: false },
    tracing: {
      endpoint: receiver.url,
      scheduledDelayMs: 20,
      spanProcessors: [userProcessor],
      ...(stackTraces === undefined ? {} : { stackTraces }),
    },
  });
  return telemetry;
}

/** Puts `text` everywhere a span can carry a string. */
function carry(span: Span, text: string): void {
  span.setAttribute('case.text', text);
  span.addEvent('note', { detail: text });
  span.recordException(new Error(text));
  span.setStatus({ code: SpanStatusCode.ERROR, message: text });
}

function textOf(s: OtlpSpan): string {
  return JSON.stringify(
    { n: s.name, a: s.attributes, e: s.events, l: s.links, st: s.status },
    (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
  );
}

async function exported(prefix: string, n: number): Promise<OtlpSpan[]> {
  const mine = (all: OtlpSpan[]) => all.filter((s) => s.name.startsWith(prefix));
  return mine(await receiver.waitForSpans((all) => mine(all).length >= n));
}

describe('span scrubbing through the shared secret table', () => {
  it('leaves no secret of a string case in attributes, events, exceptions or status', async () => {
    const t = start('production');
    SECRET_STRINGS.forEach((c, i) => {
      const span = t.tracer.startSpan(`str ${i}`, {
        links: [
          {
            context: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 },
            attributes: { why: c.text },
          },
        ],
      });
      carry(span, c.text);
      span.end();
    });
    const spans = await exported('str ', SECRET_STRINGS.length);
    SECRET_STRINGS.forEach((c, i) => {
      const span = spans.find((s) => s.name === `str ${i}`)!;
      const text = textOf(span);
      for (const secret of c.secrets) {
        expect(text, `${c.name}: ${secret}`).not.toContain(JSON.stringify(secret).slice(1, -1));
      }
      for (const kept of c.keep)
        expect(text, `${c.name}: ${kept} lost`).toContain(kept.replace(/\n/g, '\\n'));
    });
    // A processor added by the service sees the same scrubbed span.
    for (const s of seen.filter((x) => x.name.startsWith('str '))) {
      const c = SECRET_STRINGS[Number(s.name.slice(4))]!;
      for (const secret of c.secrets) expect(JSON.stringify(s.attributes)).not.toContain(secret);
    }
  });

  it('scrubs string-array attributes (argv, rawHeaders)', async () => {
    const t = start('production');
    const cases = SECRET_VALUES.filter((c) => c.attribute === true);
    cases.forEach((c, i) => {
      t.tracer
        .startSpan(`arr ${i}`, { attributes: { 'process.command_args': c.value as string[] } })
        .end();
    });
    const spans = await exported('arr ', cases.length);
    cases.forEach((c, i) => {
      const text = textOf(spans.find((s) => s.name === `arr ${i}`)!);
      for (const secret of c.secrets) expect(text, c.name).not.toContain(secret);
      for (const kept of c.keep) expect(text, c.name).toContain(kept);
    });
  });

  it('keeps look-alikes as they are', async () => {
    const t = start('production');
    LOOK_ALIKES.forEach((text, i) => {
      const span = t.tracer.startSpan(`alike ${i}`);
      span.setAttribute('case.text', text);
      span.end();
    });
    const spans = await exported('alike ', LOOK_ALIKES.length);
    LOOK_ALIKES.forEach((text, i) => {
      expect(spans.find((s) => s.name === `alike ${i}`)!.attributes['case.text']).toBe(text);
    });
  });

  it('drops exception stack traces in production and keeps them scrubbed when asked', async () => {
    const t = start('production');
    const span = t.tracer.startSpan('stack off');
    span.recordException(new Error('for amy@example.com'));
    span.end();
    const [off] = await exported('stack off', 1);
    expect(off!.events[0]!.attributes).not.toHaveProperty('exception.stacktrace');
    await telemetry!.shutdown();

    const t2 = start('production', true);
    const span2 = t2.tracer.startSpan('stack on');
    span2.recordException(new Error('for amy@example.com'));
    span2.end();
    const [on] = await exported('stack on', 1);
    const stack = on!.events[0]!.attributes['exception.stacktrace'] as string;
    expect(stack).toMatch(/^Error: for \[EMAIL\]\n\s+at /);
  });

  it('keeps stack traces by default in development, like the log line', async () => {
    const t = start('development');
    const span = t.tracer.startSpan('stack dev');
    span.recordException(new Error('boom'));
    span.end();
    const [dev] = await exported('stack dev', 1);
    expect(dev!.events[0]!.attributes['exception.stacktrace']).toMatch(/^Error: boom\n/);
  });
});
