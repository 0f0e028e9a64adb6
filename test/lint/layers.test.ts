/**
 * The layers of src/ as the repository's own ESLint config holds them
 * (eslint.config.js): each case lints one import line as if it were a file at
 * the given path, with the real config.
 */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: process.cwd() });

/** The layer messages ESLint reports for `code` at `filePath`. */
async function layerErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport { x };\n`, { filePath });
  return result!.messages
    .filter((m) => /restricted-imports/.test(m.ruleId ?? ''))
    .map((m) => m.message);
}

/** Each `[file, import line]` is refused with a message containing `message`. */
async function expectRefused(cases: [string, string][], message: string): Promise<void> {
  for (const [file, line] of cases) {
    const errors = await layerErrors(file, line);
    expect(errors, `${file}: ${line}`).toHaveLength(1);
    expect(errors[0]).toContain(message);
  }
}

/** Each `[file, import line]` passes the layer rules. */
async function expectAllowed(cases: [string, string][]): Promise<void> {
  for (const [file, line] of cases) {
    expect(await layerErrors(file, line), `${file}: ${line}`).toEqual([]);
  }
}

describe('layers of src/ (eslint.config.js)', () => {
  it('keeps core rooms off adapters, tools, config/, the composition root and entries', async () => {
    await expectRefused(
      [
        ['src/tracing/x.ts', "import { x } from '../middleware/lifecycle.js';"],
        ['src/tracing/otlp/x.ts', "import { x } from '../../jobs/run.js';"],
        ['src/logging/x.ts', "import { x } from '../config/resolve.js';"],
        ['src/metrics/x.ts', "import { x } from '../config/kinds.js';"],
        ['src/context.ts', "import { x } from './init.js';"],
        ['src/errors.ts', "import { x } from './index.js';"],
        ['src/logging/x.ts', "import type { x } from '../events/envelope.js';"],
        ['src/metrics/x.ts', "import { x } from '../slo/index.js';"],
      ],
      'Core rooms never import',
    );
  });

  it('lets core rooms import one another, the shared leaves and their own files', async () => {
    await expectAllowed([
      ['src/tracing/x.ts', "import { x } from '../logging/redact.js';"],
      ['src/logging/x.ts', "import { x } from '../context.js';"],
      ['src/logging/x.ts', "import { x } from './index.js';"],
      ['src/tracing/otlp/x.ts', "import { x } from '../provider.js';"],
      ['src/tracing/x.ts', "import type { x } from '../types.js';"],
    ]);
  });

  it('keeps adapters and tools off one another, the resolved configuration and init.ts', async () => {
    await expectRefused(
      [
        ['src/jobs/x.ts', "import { x } from '../middleware/conventions.js';"],
        ['src/middleware/fastify/x.ts', "import { x } from '../../events/envelope.js';"],
        ['src/clients/x.ts', "import type { x } from '../init.js';"],
        ['src/events/x.ts', "import { x } from '../config/resolve.js';"],
        ['src/slo/x.ts', "import { x } from '../lint/index.js';"],
        ['src/lint/x.ts', "import { x } from '../testing/assertions.js';"],
      ],
      'Adapters and tools never import',
    );
    await expectAllowed([
      ['src/middleware/fastify/x.ts', "import { x } from '../lifecycle.js';"],
      ['src/jobs/x.ts', "import type { Telemetry } from '../types.js';"],
      ['src/clients/x.ts', "import { x } from '../config/kinds.js';"],
      ['src/events/x.ts', "import { x } from '../tracing/carriers.js';"],
    ]);
  });

  it('keeps entries out of src/ and types.ts to type-only imports', async () => {
    expect(await layerErrors('src/cli/x.ts', "import { x } from '../index.js';")).toHaveLength(1);
    expect(await layerErrors('src/init.ts', "import { x } from './fastify.js';")).toHaveLength(1);
    expect(await layerErrors('src/cli/x.ts', "import { x } from '../init.js';")).toEqual([]);
    expect(await layerErrors('src/types.ts', "import { x } from './metrics/registry.js';")).toEqual(
      [expect.stringContaining('types.ts holds public types only')],
    );
    expect(
      await layerErrors('src/types.ts', "import type { x } from './metrics/registry.js';"),
    ).toEqual([]);
  });
});
