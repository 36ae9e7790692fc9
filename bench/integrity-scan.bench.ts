import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { applySchema, seedHistory } from '../sim/db/seed.js';
import { DEFAULT_CHUNK_SIZE, runIntegrityScan } from '../src/executors/dg-sql/integrity-scan.js';
import { createProbePool } from '../src/executors/dg-sql/pool.js';
import { createTempDatabase } from '../test/helpers/pg.js';
import { runToEnd } from '../test/helpers/run-to-end.js';

/*
 * Integrity scan vs. a plain export of the same rows.
 *
 * For each size a fresh database is seeded, vacuumed (so neither side pays for hint bits), then:
 * - baseline: `psql -c "\copy (SELECT <scan columns> FROM dg_event_log ORDER BY log_seq) TO '/dev/null'"`, i.e.
 *   Postgres streams every row the scan reads to a client that consumes it;
 * - the scan: `runIntegrityScan` with the default chunk size, alternating with the copy, `runs` times each; the
 *   medians count (the machine may be shared), the first (cold) scan is shown apart;
 * - memory: one more scan in a child process, which samples `rss` and `heapUsed` every 50 ms and reports the
 *   peaks plus the kernel's max RSS, so seeding in this process does not blur the figures.
 */

export interface BenchIntegrityScanOptions {
  /** Log sizes to measure, smallest first. @defaultValue [100000, 1000000] */
  sizes?: number[];
  /** @defaultValue the scan's default (20000) */
  chunkSize?: number;
  /** @defaultValue ['default', 'acme', 'globex'] */
  tenants?: string[];
  /** Timed runs of each side per size; the median is reported. @defaultValue 3 */
  runs?: number;
  /** Print the table. @defaultValue true */
  print?: boolean;
}

export interface BenchSizeResult {
  events: number;
  seedMs: number;
  copyMs: number;
  /** Median of the runs. */
  scanMs: number;
  /** The first run, with a cold JIT and a new connection. */
  firstScanMs: number;
  /** scanMs / copyMs. */
  ratio: number;
  chunks: number;
  findings: number;
  peakRssMb: number;
  peakHeapMb: number;
  maxRssMb: number;
}

export interface BenchResult {
  name: 'integrity-scan';
  baseline: string;
  sizes: BenchSizeResult[];
  /** Largest scan/copy ratio over all sizes; target ≤ 2. */
  worstRatio: number;
  /** Peak RSS of the largest size minus the smallest, MB; target < 50. */
  rssGrowthMb: number;
  chunkSize: number;
  /** 1-minute load average before and after: timings on a busy machine are noisy. */
  loadAverage: [number, number];
  pass: boolean;
}

const SCAN_COLUMNS = 'log_seq, tenant_id, trace_id, trace_seq, event_type, event_id, payload_hash, payload_json';
const SELF = fileURLToPath(import.meta.url);

interface ChildReport {
  durationsMs: number[];
  chunks: number;
  scanned: number;
  findings: number;
  peakRss: number;
  peakHeap: number;
  maxRssKb: number;
}

function mb(bytes: number): number {
  return Math.round((bytes / (1024 * 1024)) * 10) / 10;
}

/** Runs a command to its end; its standard output, or an error with the end of what it printed on failure. */
async function run(command: string, args: string[]): Promise<string> {
  const { code, stdout, stderr } = await runToEnd(command, args, process.env);
  if (code !== 0) throw new Error(`${command} exited ${code}: ${stderr.slice(-500)}`);
  return stdout;
}

async function timeCopy(url: string): Promise<number> {
  const started = performance.now();
  await run('psql', [
    url,
    '-X',
    '-q',
    '-v',
    'ON_ERROR_STOP=1',
    '-c',
    `\\copy (SELECT ${SCAN_COLUMNS} FROM dg_event_log ORDER BY log_seq) TO '/dev/null'`,
  ]);
  return performance.now() - started;
}

async function scanInChild(url: string, chunkSize: number, runs: number): Promise<ChildReport> {
  const out = await run(process.execPath, ['--import', 'tsx', SELF, '--child', url, String(chunkSize), String(runs)]);
  const line = out.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as ChildReport;
}

async function timeScan(pool: pg.Pool, chunkSize: number, events: number): Promise<number> {
  const started = performance.now();
  const result = await runIntegrityScan(pool, { chunkSize });
  const ms = performance.now() - started;
  if (result.scanned !== events || !result.ok) throw new Error(`scan read ${result.scanned} of ${events} events`);
  return ms;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** Child mode: `runs` scans, memory sampled every 50 ms throughout, one JSON line on stdout. */
async function childMain(url: string, chunkSize: number, runs: number): Promise<void> {
  let peakRss = 0;
  let peakHeap = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  const timer = setInterval(sample, 50);
  const pool = createProbePool({ connectionString: url, max: 1, statementTimeoutMs: 300_000 });
  try {
    const durationsMs: number[] = [];
    let result: Awaited<ReturnType<typeof runIntegrityScan>> | undefined;
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      result = await runIntegrityScan(pool, { chunkSize, onProgress: sample });
      durationsMs.push(performance.now() - started);
      sample();
    }
    if (!result) throw new Error('no scan ran');
    const report: ChildReport = {
      durationsMs,
      chunks: result.chunks,
      scanned: result.scanned,
      findings: result.failed.length,
      peakRss,
      peakHeap,
      maxRssKb: process.resourceUsage().maxRSS,
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    clearInterval(timer);
    await pool.end();
  }
}

export async function benchIntegrityScan(opts: BenchIntegrityScanOptions = {}): Promise<BenchResult> {
  const sizes = opts.sizes ?? [100_000, 1_000_000];
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const tenants = opts.tenants ?? ['default', 'acme', 'globex'];
  const runs = opts.runs ?? 3;
  const loadBefore = Math.round((loadavg()[0] ?? 0) * 100) / 100;
  const results: BenchSizeResult[] = [];
  for (const events of sizes) {
    const db = await createTempDatabase('dgbench');
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    try {
      await applySchema(pool);
      const seedStarted = performance.now();
      await seedHistory(pool, { tenants, totalEvents: events });
      const seedMs = performance.now() - seedStarted;
      await pool.query('VACUUM (ANALYZE) dg_event_log');
      // Timing: copy and scan alternate in this process, so both see the same load on a shared machine; the
      // first scan (cold JIT, new connection) is reported apart. Memory: one scan in a child process.
      const scanPool = createProbePool({ connectionString: db.url, max: 1, statementTimeoutMs: 300_000 });
      const copies: number[] = [];
      const scans: number[] = [];
      let firstScanMs = 0;
      try {
        await timeCopy(db.url); // warms the cache for both sides alike
        firstScanMs = await timeScan(scanPool, chunkSize, events);
        for (let i = 0; i < runs; i++) {
          copies.push(await timeCopy(db.url));
          scans.push(await timeScan(scanPool, chunkSize, events));
        }
      } finally {
        await scanPool.end();
      }
      const copyMs = median(copies);
      const scanMs = median(scans);
      const scan = await scanInChild(db.url, chunkSize, 1);
      if (scan.scanned !== events) throw new Error(`scan read ${scan.scanned} of ${events} events`);
      results.push({
        events,
        seedMs: Math.round(seedMs),
        copyMs: Math.round(copyMs),
        scanMs: Math.round(scanMs),
        firstScanMs: Math.round(firstScanMs),
        ratio: Math.round((scanMs / copyMs) * 100) / 100,
        chunks: scan.chunks,
        findings: scan.findings,
        peakRssMb: mb(scan.peakRss),
        peakHeapMb: mb(scan.peakHeap),
        maxRssMb: mb(scan.maxRssKb * 1024),
      });
    } finally {
      await pool.end();
      await db.drop();
    }
  }
  const worstRatio = Math.max(...results.map((r) => r.ratio));
  const first = results[0];
  const last = results.at(-1);
  const rssGrowthMb = first && last ? Math.round((last.peakRssMb - first.peakRssMb) * 10) / 10 : 0;
  const result: BenchResult = {
    name: 'integrity-scan',
    baseline: `psql \\copy (SELECT ${SCAN_COLUMNS} ... ORDER BY log_seq) TO /dev/null`,
    sizes: results,
    worstRatio,
    rssGrowthMb,
    chunkSize,
    loadAverage: [loadBefore, Math.round((loadavg()[0] ?? 0) * 100) / 100],
    pass: worstRatio <= 2 && Math.abs(rssGrowthMb) < 50 && results.every((r) => r.findings === 0),
  };
  if (opts.print ?? true) printTable(result);
  return result;
}

function printTable(result: BenchResult): void {
  const header = [
    'events',
    'seed ms',
    'copy ms',
    'scan ms',
    'first scan ms',
    'scan/copy',
    'chunks',
    'peak rss MB',
    'peak heap MB',
  ];
  const rows = result.sizes.map((r) => [
    r.events.toLocaleString('en-US'),
    String(r.seedMs),
    String(r.copyMs),
    String(r.scanMs),
    String(r.firstScanMs),
    `${r.ratio}x`,
    String(r.chunks),
    String(r.peakRssMb),
    String(r.peakHeapMb),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ');
  console.log(`integrity scan vs baseline: ${result.baseline}`);
  console.log(`chunk size ${result.chunkSize}, load average ${result.loadAverage[0]} -> ${result.loadAverage[1]}`);
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  console.log(
    `worst scan/copy ${result.worstRatio}x (target <= 2x), peak RSS growth ${result.rssGrowthMb} MB (target < 50 MB): ${
      result.pass ? 'PASS' : 'FAIL'
    }`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === SELF) {
  const [flag, url, chunk, runs] = process.argv.slice(2);
  const main =
    flag === '--child' && url
      ? childMain(url, Number(chunk), Number(runs ?? 1))
      : benchIntegrityScan().then(() => undefined);
  main.catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
