import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The layers of docs/architecture.md: a reading of the imports, and the lint rule that keeps them.

const ROOT = join(import.meta.dirname, '../..');
const BIOME = join(ROOT, 'node_modules/.bin/biome');

async function tsFiles(dir: string): Promise<string[]> {
  const entries = await readdir(join(ROOT, dir), { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

async function importGraph(): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  for (const file of [...(await tsFiles('src')), ...(await tsFiles('sim'))]) {
    const text = await readFile(join(ROOT, file), 'utf8');
    const targets = [...text.matchAll(/from\s+'(\.{1,2}\/[^']+)'/g)].map((m) =>
      normalize(join(dirname(file), m[1] ?? '')).replace(/\.js$/, '.ts'),
    );
    graph.set(file, targets);
  }
  return graph;
}

/** Strongly connected components with more than one file (Tarjan). */
function circles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string | undefined;
    do {
      w = stack.pop();
      if (w === undefined) break;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1) found.push(component);
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('imports', () => {
  it('form no circle in src/ or sim/', async () => {
    const graph = await importGraph();
    expect(graph.size).toBeGreaterThan(100);
    expect(circles(graph)).toEqual([]);
  });

  it('never leave sim/ for src/', async () => {
    const graph = await importGraph();
    const outward = [...graph].flatMap(([file, targets]) =>
      file.startsWith('sim/') ? targets.filter((t) => t.startsWith('src/')).map((t) => `${file} → ${t}`) : [],
    );
    expect(outward).toEqual([]);
  });
});

// One probe file per (folder, import); the lint run must flag exactly the wrong-way ones.
const PROBES: ReadonlyArray<{ from: string; to: string; refused: boolean }> = [
  { from: 'runbook', to: '../jobs/run-service.js', refused: true },
  { from: 'runbook', to: '../logger.js', refused: true },
  { from: 'runbook', to: 'pg', refused: true },
  { from: 'runbook', to: '../errors.js', refused: false },
  { from: 'slack', to: '../runbook/index.js', refused: true },
  { from: 'slack', to: '../errors.js', refused: false },
  { from: 'executors', to: '../jobs/run-service.js', refused: true },
  { from: 'executors', to: '../runbook/index.js', refused: false },
  { from: 'jobs', to: '../projections/thread/index.js', refused: true },
  { from: 'jobs', to: '../executors/registry/index.js', refused: false },
  { from: 'projections', to: '../handlers/index.js', refused: true },
  { from: 'projections', to: '../slack/blocks/limits.js', refused: false },
  { from: 'handlers', to: '../bot/app.js', refused: true },
  { from: 'handlers', to: '../projections/thread/index.js', refused: false },
  { from: 'cli', to: '../handlers/index.js', refused: true },
  { from: 'cli', to: '../../sim/index.js', refused: true },
  { from: 'bot', to: '../handlers/index.js', refused: false },
  { from: 'store', to: '../jobs/index.js', refused: true },
];

describe('npm run lint', () => {
  let dir: string;
  let flagged: Set<string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dgr-layers-'));
    const config = JSON.parse(await readFile(join(ROOT, 'biome.json'), 'utf8')) as Record<string, unknown>;
    delete config.$schema;
    await writeFile(join(dir, 'biome.json'), JSON.stringify(config));
    for (const [i, probe] of PROBES.entries()) {
      await mkdir(join(dir, 'src', probe.from), { recursive: true });
      await writeFile(join(dir, 'src', probe.from, `probe-${i}.ts`), `export * from '${probe.to}';\n`);
    }
    const run = await promisify(execFile)(BIOME, ['lint', '--reporter=json', '--max-diagnostics=none', '.'], {
      cwd: dir,
    }).catch((err: { stdout: string }) => err);
    const report = JSON.parse(run.stdout) as { diagnostics: { category: string; location: { path: string } }[] };
    flagged = new Set(
      report.diagnostics.filter((d) => d.category === 'lint/style/noRestrictedImports').map((d) => d.location.path),
    );
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each(PROBES.map((p, i) => ({ ...p, i })))('$from/ → $to refused: $refused', ({ from, i, refused }) => {
    expect(flagged.has(`src/${from}/probe-${i}.ts`)).toBe(refused);
  });
});
