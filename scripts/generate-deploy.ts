// Regenerates deploy/: the Prometheus rule files, the Grafana dashboards and
// an example scrape configuration, from the catalog and the spec's SLOs.
// test/slo/generated.test.ts fails when deploy/ differs from this output.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deployFiles } from './deploy-files.js';

const root = new URL('../deploy/', import.meta.url).pathname;
for (const dir of ['prometheus/rules', 'grafana/dashboards']) {
  const path = join(root, dir);
  mkdirSync(path, { recursive: true });
  for (const f of readdirSync(path)) rmSync(join(path, f));
}
for (const f of deployFiles()) {
  writeFileSync(join(root, f.path), f.content);
  console.log(`wrote deploy/${f.path}`);
}
