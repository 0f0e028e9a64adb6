import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import {
  codeLabel,
  methodLabel,
  statusOfError,
  validStatus,
} from '../../src/middleware/conventions.js';
import { reverseExpress4Mount } from '../../src/middleware/express/express4-paths.js';
import { pathTemplate } from '../../src/middleware/express/route-template.js';
import { resolveHttpOptions } from '../../src/middleware/options.js';
import { createRequestIdGenerator, isValidRequestId } from '../../src/middleware/request-id.js';
import { createScrubber } from '../../src/logging/scrub.js';

describe('request ids', () => {
  it('accepts 1–128 characters of A-Za-z0-9._:-', () => {
    for (const id of [
      'a',
      'A-1',
      'req_1.2:3',
      'x'.repeat(128),
      '550e8400-e29b-41d4-a716-446655440000',
    ]) {
      expect(isValidRequestId(id), id).toBe(true);
    }
  });

  it('rejects everything else', () => {
    for (const id of [
      '',
      'x'.repeat(129),
      'a\r\nb',
      'a b',
      'ü',
      '✓',
      'a/b',
      'a"b',
      'a\0b',
      undefined,
      ['a'],
      42,
    ]) {
      expect(isValidRequestId(id), JSON.stringify(id)).toBe(false);
    }
  });

  it('generates unique, valid ids', () => {
    const next = createRequestIdGenerator();
    const ids = Array.from({ length: 10_000 }, next);
    expect(new Set(ids).size).toBe(10_000);
    expect(ids.every(isValidRequestId)).toBe(true);
    expect(createRequestIdGenerator()()).not.toBe(createRequestIdGenerator()());
  });

  it('never draws a prefix the log scrubber would take for a JWT', () => {
    const redactions: string[] = [];
    const scrub = createScrubber({
      isSecretKey: () => false,
      maxStringLength: 8192,
      onRedaction: (kind) => redactions.push(kind),
    });
    // base64url('{"x…') starts with `eyJ4`, as a JWT header does.
    const draws = [Buffer.from('{"x123456', 'latin1'), Buffer.from('stacklite', 'latin1')];
    const next = createRequestIdGenerator(() => draws.shift()!);
    expect(draws).toHaveLength(0);
    const ids = Array.from({ length: 100 }, next);
    expect(ids[0]).toBe('c3RhY2tsaXRl-1');
    expect(ids.map(scrub)).toEqual(ids);
    expect(redactions).toEqual([]);
  });
});

describe('label conventions', () => {
  it('keeps standard methods and folds the rest into _OTHER', () => {
    expect(
      ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE', 'QUERY'].map(
        methodLabel,
      ),
    ).toEqual([
      'GET',
      'HEAD',
      'POST',
      'PUT',
      'PATCH',
      'DELETE',
      'OPTIONS',
      'CONNECT',
      'TRACE',
      'QUERY',
    ]);
    expect(
      ['get', 'PROPFIND', 'BREW', '__proto__', 'constructor', '', undefined].map(methodLabel),
    ).toEqual(Array(7).fill('_OTHER'));
  });

  it('turns statuses into label strings and errors into statuses', () => {
    expect([codeLabel(200), codeLabel(499), codeLabel(99), codeLabel(600)]).toEqual([
      '200',
      '499',
      '500',
      '500',
    ]);
    expect([validStatus(204), validStatus(700), validStatus('200'), validStatus(2.5)]).toEqual([
      204, 500, 500, 500,
    ]);
    expect(statusOfError({ statusCode: 404 })).toBe(404);
    expect(statusOfError({ status: 503 })).toBe(503);
    expect(statusOfError({ status: 302 })).toBe(500);
    expect(statusOfError(new Error('x'))).toBe(500);
    expect(statusOfError('boom')).toBe(500);
  });
});

describe('Express route templates', () => {
  it('reverses the regexps Express 4 builds for mount paths', () => {
    const cases: Array<[string, string[], string]> = [
      ['^\\/api\\/?(?=\\/|$)', [], '/api'],
      ['^\\/orgs(?:\\/([^/]+?))\\/?(?=\\/|$)', ['orgId'], '/orgs/:orgId'],
      ['^\\/a(?:\\/([^/]+?))\\/b(?:\\/([^/]+?))?\\/?(?=\\/|$)', ['x', 'y'], '/a/:x/b/:y?'],
      ['^\\/v1\\.0\\/?(?=\\/|$)', [], '/v1.0'],
      ['^\\/files\\/(.*)\\/?(?=\\/|$)', [], '/files/*'],
    ];
    for (const [source, names, template] of cases) {
      expect(
        reverseExpress4Mount(
          source,
          names.map((name) => ({ name })),
        ),
        source,
      ).toBe(template);
    }
    expect(reverseExpress4Mount('^\\/v\\d+', [])).toBeUndefined();
    expect(reverseExpress4Mount('^\\/(?:\\/(\\d+))\\/?(?=\\/|$)', [{ name: 0 }])).toBeUndefined();
  });

  it('renders path arguments as templates', () => {
    expect(pathTemplate('/users/:id')).toBe('/users/:id');
    expect(pathTemplate(['/a', ['/b', '/c']])).toBe('/a|/b|/c');
    expect(pathTemplate(/^\/x$/i)).toBe('/^\\/x$/i');
    expect(pathTemplate('')).toBe('/');
  });
});

describe('option validation', () => {
  const message = (fn: () => unknown): string => {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('did not throw');
  };

  it('names the option, the value and what is allowed', () => {
    expect(message(() => resolveHttpOptions({ readinessTimeoutMs: 0 }))).toBe(
      'stacklight: readinessTimeoutMs must be a whole number of milliseconds in [1, 2147483647], got 0',
    );
    expect(message(() => resolveHttpOptions({ drainGraceMs: -5 }))).toBe(
      'stacklight: drainGraceMs must be a whole number of milliseconds in [0, 2147483647], got -5',
    );
    expect(message(() => resolveHttpOptions({ requestIdHeader: 'x request id' }))).toBe(
      'stacklight: requestIdHeader must be a header name (RFC 9110 token), got "x request id"',
    );
    expect(message(() => resolveHttpOptions({ metricsEndpoint: 'metrics' }))).toBe(
      'stacklight: metricsEndpoint must be true, false or a path starting with "/", got "metrics"',
    );
    expect(message(() => resolveHttpOptions({ logLevels: { success: 'loud' as never } }))).toBe(
      'stacklight: logLevels.success must be one of trace, debug, info, warn, error, fatal, silent, got "loud"',
    );
    expect(message(() => resolveHttpOptions({ excludeFromLogs: '/healthz' as never }))).toBe(
      'stacklight: excludeFromLogs must be an array of route templates (strings), got "/healthz"',
    );
    expect(
      message(() => resolveHttpOptions({ readinessChecks: { db: 'select 1' as never } })),
    ).toBe(
      'stacklight: readinessChecks.db must be a function or { check: function, timeoutMs?: number }, got "select 1"',
    );
    expect(message(() => resolveHttpOptions({ userId: 'id' as never }))).toBe(
      'stacklight: userId must be a function, got "id"',
    );
    expect(message(() => resolveHttpOptions({ metricsEndpoint: '/x', healthEndpoint: '/x' }))).toBe(
      'stacklight: metricsEndpoint/healthEndpoint/readinessEndpoint must be three different paths, got ["/x","/x"]',
    );
    expect(message(() => resolveHttpOptions({ excludeFromLog: [] } as never))).toMatch(
      /^stacklight: excludeFromLog must be a known option \(requestIdHeader, /,
    );
  });

  it('applies the documented defaults', () => {
    const o = resolveHttpOptions(undefined);
    expect(o.requestIdHeader).toBe('x-request-id');
    expect(o.trustRequestId).toBe(true);
    expect(o.levelByClass).toEqual(['error', 'info', 'info', 'info', 'warn', 'error']);
    expect([...o.excludeFromLogs]).toEqual(['/metrics', '/healthz', '/readyz']);
    expect([...o.excludeFromMetrics]).toEqual(['/metrics', '/healthz', '/readyz']);
    expect([o.metricsPath, o.healthPath, o.readinessPath]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(o.drainGraceMs).toBe(0);
    const custom = resolveHttpOptions({ healthEndpoint: '/live', readinessEndpoint: true });
    expect([...custom.excludeFromMetrics]).toEqual(['/metrics', '/live', '/readyz']);
  });
});
