import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { type CheckEvidence, type CheckName, evidence, roundMs, validCap } from './evidence.js';
import {
  type AfterFinishRow,
  afterFinishIn,
  type ContinuityRow,
  type CursorAheadRow,
  continuityIn,
  cursorAheadIn,
  type HashDriftRow,
  hashDriftIn,
  type OpenFailuresEvidence,
  type OpenRunsEvidence,
  type OrderingRow,
  openFailuresIn,
  openRunsIn,
  orderingIn,
  type TraceStartRow,
  traceStartIn,
} from './integrity-checks.js';
import { type ParitySnapshot, paritySnapshotIn, type TenantParity } from './parity.js';
import { type ReadOnlySession, withReadOnly } from './read-only.js';
import { withSnapshotHelper } from './snapshot-helper.js';

// Keyset chunks read in one REPEATABLE READ snapshot, keeping per-chunk state only: memory is O(chunk), never
// O(log). How each check stays exact across chunks: docs/internals.md#integrity-scan.

export interface ScanProgress {
  /** Events read so far. */
  scanned: number;
  /** Events to read (counted at the start, in the scan's snapshot). */
  total: number;
  /** Last `log_seq` read. */
  lastLogSeq: number;
  chunks: number;
}

export interface IntegrityScanOptions {
  /** Only this tenant. @defaultValue all tenants */
  tenantId?: string;
  /**
   * Events per chunk. Client memory is about two chunks of narrow rows (one walked, the next arriving).
   * @defaultValue 20000
   */
  chunkSize?: number;
  /** Offending rows kept per check. @defaultValue 20 */
  cap?: number;
  /** Called after each chunk; must not block (the transaction stays open meanwhile). */
  onProgress?: (progress: ScanProgress) => void;
  /** Statement timeout of each chunk, ms. @defaultValue 120000 */
  chunkTimeoutMs?: number;
  /** See `OpenRunsOptions.activeReplayJobs`. @defaultValue null (unknown) */
  activeReplayJobs?: number | null;
  /** See `OpenRunsOptions.stuckAfterMs`. @defaultValue 1800000 */
  stuckAfterMs?: number;
  /** Stops the scan between chunks. */
  signal?: AbortSignal;
  /**
   * Hash payloads on a second connection in the same snapshot, beside the chunk reads; without one (or when it
   * cannot be opened) everything runs on the scan's connection. @defaultValue true
   */
  hashOnHelper?: boolean;
}

export interface IntegrityChecks {
  payloadHashDrift: CheckEvidence<HashDriftRow>;
  traceSeqContinuity: CheckEvidence<ContinuityRow>;
  traceSeqOrdering: CheckEvidence<OrderingRow>;
  traceStartMismatch: CheckEvidence<TraceStartRow>;
  eventAfterFinish: CheckEvidence<AfterFinishRow>;
  cursorAheadOfTail: CheckEvidence<CursorAheadRow>;
  openFailures: OpenFailuresEvidence;
  openRuns: OpenRunsEvidence;
}

export interface IntegrityScanResult {
  tenantId: string | null;
  /** `chunked` for `runIntegrityScan`, `single-query` for `runIntegrityChecks`. */
  method: 'chunked' | 'single-query';
  chunkSize: number | null;
  chunks: number;
  scanned: number;
  /** Traces whose history before a chunk had to be looked up (the Bloom filter could not rule it out). */
  lookbacks: number;
  durationMs: number;
  checks: IntegrityChecks;
  parity: ParitySnapshot;
  /** Checks that found something, event-log checks first (the runbook's first priority). */
  failed: CheckName[];
  ok: boolean;
}

// One narrow row per event; bit 1 = TraceStarted, 2 = TraceFinished. The ORDER BY names the table column: the
// float8 output alias would defeat the primary-key order and read the whole remaining log.
export const CHUNK_SQL = `SELECT log_seq::float8 AS log_seq, tenant_id, trace_id, trace_seq,
  CASE event_type WHEN 'TraceStarted' THEN 1 WHEN 'TraceFinished' THEN 2 ELSE 0 END AS flags
FROM dg_event_log
WHERE dg_event_log.log_seq > $1 AND ($2::text IS NULL OR tenant_id = $2)
ORDER BY dg_event_log.log_seq LIMIT $3`;

// Every payload of a chunk's log_seq range hashed (the costly part of the scan), on a second backend when there
// is one; only the drifting events come back.
export const DRIFT_SQL = `SELECT log_seq::float8 AS log_seq FROM dg_event_log
WHERE dg_event_log.log_seq > $1 AND dg_event_log.log_seq <= $2 AND ($3::text IS NULL OR tenant_id = $3)
  AND payload_hash IS DISTINCT FROM 'sha256:' || encode(sha256(convert_to(payload_json, 'UTF8')), 'hex')`;

/** Part of each chunk's payloads hashed on the helper connection when there is one (measured, see bench/README.md). */
const HELPER_SHARE = 0.65;

/** Events per chunk unless told otherwise. */
export const DEFAULT_CHUNK_SIZE = 20_000;

const STARTED = 1;
const FINISHED = 2;

/** For traces seen before the chunk: their newest earlier event and their first TraceFinished, if any. */
export const LOOKBACK_SQL = `SELECT t.i::int AS i, pb.trace_seq AS prev,
  (SELECT MIN(f.log_seq) FROM dg_event_log f
    WHERE f.tenant_id = t.tenant_id AND f.trace_id = t.trace_id AND f.event_type = 'TraceFinished'
      AND f.log_seq <= $3)::float8 AS fin
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(tenant_id, trace_id, i)
CROSS JOIN LATERAL (
  SELECT e.trace_seq FROM dg_event_log e
  WHERE e.tenant_id = t.tenant_id AND e.trace_id = t.trace_id AND e.log_seq <= $3
  ORDER BY e.log_seq DESC LIMIT 1) pb`;

/** Text columns of the offending rows kept as evidence (at most `cap` per check). */
export const DETAILS_SQL = `SELECT log_seq::float8 AS log_seq, event_id, event_type, payload_hash,
  'sha256:' || encode(sha256(convert_to(payload_json, 'UTF8')), 'hex') AS recomputed
FROM dg_event_log WHERE log_seq = ANY($1::int8[])`;

type ChunkRow = [logSeq: number, tenantId: string, traceId: string, traceSeq: number, flags: number];

/** A chunk's rows and the log_seqs of its events whose payload hash drifts. */
interface Chunk {
  rows: ChunkRow[];
  drift: Promise<[number][]>;
}

interface TraceState {
  tenantId: string;
  traceId: string;
  /** trace_seq of the trace's latest event so far (before the chunk, then in it). */
  last: number | null;
  /** log_seq of the trace's first TraceFinished so far. */
  fin: number | null;
  candidate: boolean;
}

/**
 * Fixed-size Bloom filter over trace keys (double hashing of two 32-bit FNV-1a variants). Memory does not grow
 * with the log; an overfull filter only answers "maybe" more often, which costs lookups, never correctness.
 */
export class TraceBloom {
  private readonly bits: Uint32Array;
  private readonly mask: number;

  constructor(expectedTraces: number, maxBytes = 8 * 1024 * 1024) {
    const wanted = Math.max(1 << 16, Math.min(maxBytes * 8, expectedTraces * 16));
    let size = 1 << 16;
    while (size < wanted) size *= 2;
    this.bits = new Uint32Array(size / 32);
    this.mask = size - 1;
  }

  get byteLength(): number {
    return this.bits.byteLength;
  }

  private h1 = 0;
  private h2 = 0;

  /** Hashes tenant, a separator and trace without building a combined string. */
  private hash(tenantId: string, traceId: string): void {
    let h1 = 0x811c9dc5;
    let h2 = 0x01000193;
    const key = tenantId.length + traceId.length + 1;
    for (let i = 0; i < key; i++) {
      // The tenant's characters, a separator no UTF-16 unit can equal, then the trace's.
      const c =
        i < tenantId.length
          ? tenantId.charCodeAt(i)
          : i === tenantId.length
            ? 0x10000
            : traceId.charCodeAt(i - tenantId.length - 1);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995) ^ (h2 >>> 13);
    }
    this.h1 = h1 >>> 0;
    this.h2 = (h2 | 1) >>> 0;
  }

  add(tenantId: string, traceId: string): void {
    this.hash(tenantId, traceId);
    const { h1, h2 } = this;
    for (let k = 0; k < 4; k++) {
      const bit = (h1 + Math.imul(k, h2)) & this.mask;
      this.bits[bit >>> 5] = (this.bits[bit >>> 5] as number) | (1 << (bit & 31));
    }
  }

  mightContain(tenantId: string, traceId: string): boolean {
    this.hash(tenantId, traceId);
    const { h1, h2 } = this;
    for (let k = 0; k < 4; k++) {
      const bit = (h1 + Math.imul(k, h2)) & this.mask;
      if (((this.bits[bit >>> 5] as number) & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

/** Whole-trace aggregates of candidate traces, with each trace's first anomaly in log_seq order. */
export const CANDIDATE_SQL = `WITH cand AS (SELECT * FROM unnest($1::text[], $2::text[]) AS t(tenant_id, trace_id)),
ev AS (
  SELECT e.tenant_id, e.trace_id, e.log_seq, e.trace_seq,
         LAG(e.trace_seq) OVER (PARTITION BY e.tenant_id, e.trace_id ORDER BY e.log_seq) AS prev
  FROM dg_event_log e JOIN cand ON cand.tenant_id = e.tenant_id AND cand.trace_id = e.trace_id
)
SELECT tenant_id AS "tenantId", trace_id AS "traceId", COUNT(*)::float8 AS "eventCount",
       MIN(trace_seq) AS "minTraceSeq", MAX(trace_seq) AS "maxTraceSeq",
       (MIN(log_seq) FILTER (WHERE (prev IS NULL AND trace_seq <> 0)
                                OR (prev IS NOT NULL AND trace_seq <> prev + 1)))::float8 AS "firstAnomaly"
FROM ev GROUP BY tenant_id, trace_id
HAVING MIN(trace_seq) <> 0 OR MAX(trace_seq) <> COUNT(*) - 1`;

/** Collects up to `cap` rows and the total of one check across chunks. */
class Collector<Row> {
  readonly rows: Row[] = [];
  total = 0;
  constructor(private readonly cap: number) {}
  add(rows: Row[], count: number): void {
    this.total += count;
    for (const row of rows) {
      if (this.rows.length >= this.cap) break;
      this.rows.push(row);
    }
  }
}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer`);
  return value;
}

interface LogScan {
  payloadHashDrift: CheckEvidence<HashDriftRow>;
  traceSeqContinuity: CheckEvidence<ContinuityRow>;
  traceSeqOrdering: CheckEvidence<OrderingRow>;
  traceStartMismatch: CheckEvidence<TraceStartRow>;
  eventAfterFinish: CheckEvidence<AfterFinishRow>;
  tenants: TenantParity[];
  scanned: number;
  chunks: number;
  lookbacks: number;
}

/** The event-log part of the scan, chunk by chunk, inside an open read-only snapshot. */
export async function scanEventLogIn(
  s: ReadOnlySession,
  opts: IntegrityScanOptions = {},
  hasher: ReadOnlySession = s,
): Promise<LogScan> {
  const started = performance.now();
  const onlyTenant = opts.tenantId ?? null;
  const chunkSize = positiveInt('chunkSize', opts.chunkSize ?? DEFAULT_CHUNK_SIZE);
  const cap = validCap(opts.cap);
  const sqlName = 'dg_sql.integrity_scan.chunk.v1';

  const totalResult = await s.query<{ n: number }>(
    'dg_sql.integrity_scan.count.v1',
    'SELECT COUNT(*)::float8 AS n FROM dg_event_log WHERE ($1::text IS NULL OR tenant_id = $1)',
    [onlyTenant],
  );
  const total = totalResult.rows[0]?.n ?? 0;

  const hash = new Collector<HashDriftRow>(cap);
  const order = new Collector<OrderingRow>(cap);
  const start = new Collector<TraceStartRow>(cap);
  const after = new Collector<AfterFinishRow>(cap);
  const continuity = new Collector<ContinuityRow>(cap);
  const tenants = new Map<string, TenantParity>();
  const seen = new TraceBloom(Math.ceil(total / 2));
  let last = 0;
  let scanned = 0;
  let chunks = 0;
  let lookups = 0;

  // A chunk's hashing is requested the moment its rows arrive, so the hasher is never idle behind the walk.
  const fetchChunk = (after: number): Promise<Chunk> =>
    s.queryArray<ChunkRow>(sqlName, CHUNK_SQL, [after, onlyTenant, chunkSize]).then((rows) => {
      const end = rows.at(-1)?.[0];
      if (end === undefined) return { rows, drift: Promise.resolve([]) };
      const hashRange = (session: ReadOnlySession, from: number, to: number) =>
        session.queryArray<[number]>('dg_sql.integrity_scan.drift.v1', DRIFT_SQL, [from, to, onlyTenant]);
      // The scan's own connection also reads the next chunk, so the helper takes the larger share.
      const cut = (rows[Math.ceil(rows.length * HELPER_SHARE) - 1] as ChunkRow)[0];
      const drift =
        hasher === s || cut === end
          ? hashRange(s, after, end)
          : Promise.all([hashRange(hasher, after, cut), hashRange(s, cut, end)]).then(([a, b]) => a.concat(b));
      drift.catch(() => undefined); // awaited below; an early exit must not leave it unhandled
      return { rows, drift };
    });
  // The next chunk is requested before this one is walked, so Postgres reads it while the client works.
  let pending: Promise<Chunk> | null = fetchChunk(0);
  try {
    while (pending) {
      opts.signal?.throwIfAborted();
      const { rows, drift } = await pending;
      pending = null;
      if (rows.length === 0) break;
      const chunkStart = last;
      const chunkEnd = (rows.at(-1) as ChunkRow)[0];
      chunks += 1;
      scanned += rows.length;

      // Per trace of this chunk: last trace_seq so far and first TraceFinished so far. Maps per tenant keyed by
      // the trace id avoid building a combined key string per row.
      const byTenant = new Map<string, Map<string, TraceState>>();
      const stateOf = new Array<TraceState>(rows.length);
      const maybeSeen: TraceState[] = [];
      let currentTenant: string | undefined;
      let currentTraces = new Map<string, TraceState>();
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i] as ChunkRow;
        const tenantId = row[1];
        const traceId = row[2];
        if (tenantId !== currentTenant) {
          currentTenant = tenantId;
          let map = byTenant.get(tenantId);
          if (!map) {
            map = new Map();
            byTenant.set(tenantId, map);
          }
          currentTraces = map;
        }
        let state = currentTraces.get(traceId);
        if (!state) {
          state = { tenantId, traceId, last: null, fin: null, candidate: false };
          currentTraces.set(traceId, state);
          if (seen.mightContain(tenantId, traceId)) maybeSeen.push(state);
        }
        stateOf[i] = state;
      }
      const lookback =
        maybeSeen.length > 0
          ? s.query<{ i: number; prev: number; fin: number | null }>(
              'dg_sql.integrity_scan.lookback.v1',
              LOOKBACK_SQL,
              [maybeSeen.map((t) => t.tenantId), maybeSeen.map((t) => t.traceId), chunkStart],
            )
          : null;
      // Queued behind the lookback on the same connection; a short chunk was the last one.
      if (rows.length === chunkSize) pending = fetchChunk(chunkEnd);
      const drifting = new Set((await drift).map((r) => r[0]));
      if (lookback) {
        lookups += maybeSeen.length;
        const found = await lookback;
        for (const r of found.rows) {
          const state = maybeSeen[r.i - 1];
          if (state) {
            state.last = r.prev;
            state.fin = r.fin;
          }
        }
      }

      const hits: { kind: 'hash' | 'order' | 'start' | 'after'; row: ChunkRow; n: number | null }[] = [];
      const counts = { hash: 0, order: 0, start: 0, after: 0 };
      const candidates: TraceState[] = [];
      const keep = (kind: 'hash' | 'order' | 'start' | 'after', row: ChunkRow, n: number | null) => {
        counts[kind] += 1;
        const collector = { hash, order, start, after }[kind];
        if (collector.rows.length + hits.filter((h) => h.kind === kind).length < cap) hits.push({ kind, row, n });
      };
      let tenant: TenantParity | undefined;
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i] as ChunkRow;
        const [logSeq, tenantId, , traceSeq, flags] = row;
        const state = stateOf[i] as TraceState;
        const prev = state.last;
        if (drifting.has(logSeq)) keep('hash', row, null);
        if (prev !== null && traceSeq !== prev + 1) keep('order', row, prev);
        if ((traceSeq === 0) !== ((flags & STARTED) !== 0)) keep('start', row, null);
        if (state.fin !== null && state.fin < logSeq) keep('after', row, state.fin);
        if ((prev === null ? traceSeq !== 0 : traceSeq !== prev + 1) && !state.candidate) {
          state.candidate = true;
          candidates.push(state);
        }
        state.last = traceSeq;
        if (flags & FINISHED && state.fin === null) state.fin = logSeq;
        if (tenant?.tenantId !== tenantId) {
          tenant = tenants.get(tenantId);
          if (!tenant) {
            tenant = { tenantId, eventCount: 0, tailLogSeq: 0 };
            tenants.set(tenantId, tenant);
          }
        }
        tenant.eventCount += 1;
        tenant.tailLogSeq = logSeq;
      }
      for (const [tenantId, map] of byTenant) for (const traceId of map.keys()) seen.add(tenantId, traceId);

      const details =
        hits.length > 0
          ? await s.query<{
              log_seq: number;
              event_id: string;
              event_type: string;
              payload_hash: string;
              recomputed: string;
            }>('dg_sql.integrity_scan.details.v1', DETAILS_SQL, [[...new Set(hits.map((h) => h.row[0]))]])
          : { rows: [] };
      const byLogSeq = new Map(details.rows.map((d) => [d.log_seq, d]));
      const pick = (kind: string) => hits.filter((h) => h.kind === kind);
      const base = (row: ChunkRow) => ({ tenantId: row[1], traceId: row[2], logSeq: row[0] });
      const detail = (row: ChunkRow) => byLogSeq.get(row[0]);
      hash.add(
        pick('hash').map((h) => ({
          ...base(h.row),
          eventId: detail(h.row)?.event_id ?? '',
          payloadHash: detail(h.row)?.payload_hash ?? '',
          recomputed: detail(h.row)?.recomputed ?? '',
        })),
        counts.hash,
      );
      order.add(
        pick('order').map((h) => ({
          ...base(h.row),
          eventId: detail(h.row)?.event_id ?? '',
          traceSeq: h.row[3],
          previousTraceSeq: h.n as number,
        })),
        counts.order,
      );
      start.add(
        pick('start').map((h) => ({
          ...base(h.row),
          eventId: detail(h.row)?.event_id ?? '',
          traceSeq: h.row[3],
          eventType: detail(h.row)?.event_type ?? '',
        })),
        counts.start,
      );
      after.add(
        pick('after').map((h) => ({
          ...base(h.row),
          eventId: detail(h.row)?.event_id ?? '',
          eventType: detail(h.row)?.event_type ?? '',
          finishedLogSeq: h.n as number,
        })),
        counts.after,
      );

      if (candidates.length > 0) {
        const verified = await s.query<ContinuityRow & { firstAnomaly: number | null }>(
          'dg_sql.integrity_scan.continuity_candidates.v1',
          CANDIDATE_SQL,
          [candidates.map((t) => t.tenantId), candidates.map((t) => t.traceId)],
        );
        const mine = verified.rows
          .filter((r) => r.firstAnomaly !== null && r.firstAnomaly > chunkStart && r.firstAnomaly <= chunkEnd)
          .sort((a, b) => (a.firstAnomaly ?? 0) - (b.firstAnomaly ?? 0))
          .map(({ firstAnomaly: _, ...row }) => row);
        continuity.add(mine, mine.length);
      }
      last = chunkEnd;
      opts.onProgress?.({ scanned, total, lastLogSeq: last, chunks });
    }
  } finally {
    // Leaving early (abort, error): the request in flight must not surface as an unhandled rejection.
    (pending as Promise<Chunk> | null)?.then((c) => c.drift).catch(() => undefined);
  }

  const ms = performance.now() - started;
  return {
    payloadHashDrift: evidence('payload_hash_drift', sqlName, ms, hash.rows, hash.total),
    traceSeqContinuity: evidence('trace_seq_continuity', sqlName, ms, continuity.rows, continuity.total),
    traceSeqOrdering: evidence('trace_seq_ordering', sqlName, ms, order.rows, order.total),
    traceStartMismatch: evidence('trace_start_mismatch', sqlName, ms, start.rows, start.total),
    eventAfterFinish: evidence('event_after_finish', sqlName, ms, after.rows, after.total),
    tenants: [...tenants.values()].sort((a, b) => (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : 0)),
    scanned,
    chunks,
    lookbacks: lookups,
  };
}

function failedChecks(checks: IntegrityChecks): CheckName[] {
  return Object.values(checks)
    .filter((c) => !c.ok)
    .map((c) => c.check);
}

/**
 * Every integrity check of contract §5.4 in one consistent snapshot: the event log in `log_seq` chunks
 * (bounded memory, `onProgress` after each chunk), then cursors, open failures and open runs, plus a restore
 * parity snapshot. Read-only; always rolls back.
 */
export async function runIntegrityScan(pool: pg.Pool, opts: IntegrityScanOptions = {}): Promise<IntegrityScanResult> {
  const started = performance.now();
  const chunkSize = positiveInt('chunkSize', opts.chunkSize ?? DEFAULT_CHUNK_SIZE);
  return withReadOnly(
    pool,
    {
      snapshot: true,
      timeoutMs: opts.chunkTimeoutMs ?? 120_000,
      sqlName: 'dg_sql.integrity_scan.connect',
    },
    async (s) => {
      const log =
        (opts.hashOnHelper ?? true)
          ? await withSnapshotHelper(pool, s, (helper) => scanEventLogIn(s, { ...opts, chunkSize }, helper ?? s))
          : await scanEventLogIn(s, { ...opts, chunkSize });
      const checkOpts = { tenantId: opts.tenantId, cap: opts.cap };
      const checks: IntegrityChecks = {
        payloadHashDrift: log.payloadHashDrift,
        traceSeqContinuity: log.traceSeqContinuity,
        traceSeqOrdering: log.traceSeqOrdering,
        traceStartMismatch: log.traceStartMismatch,
        eventAfterFinish: log.eventAfterFinish,
        cursorAheadOfTail: await cursorAheadIn(s, checkOpts),
        openFailures: await openFailuresIn(s, checkOpts),
        openRuns: await openRunsIn(s, {
          ...checkOpts,
          activeReplayJobs: opts.activeReplayJobs,
          stuckAfterMs: opts.stuckAfterMs,
        }),
      };
      const failed = failedChecks(checks);
      return {
        tenantId: opts.tenantId ?? null,
        method: 'chunked',
        chunkSize,
        chunks: log.chunks,
        scanned: log.scanned,
        lookbacks: log.lookbacks,
        durationMs: roundMs(performance.now() - started),
        checks,
        parity: { source: s.target, takenAt: new Date().toISOString(), durationMs: 0, tenants: log.tenants },
        failed,
        ok: failed.length === 0,
      };
    },
  );
}

/**
 * The same checks as one query each (contract §5.4 SQL), in one snapshot: the reference the chunked scan is
 * tested against, and fine for small logs.
 */
export interface IntegrityChecksOptions
  extends Pick<IntegrityScanOptions, 'tenantId' | 'cap' | 'activeReplayJobs' | 'stuckAfterMs'> {
  /** Statement timeout of each query, ms. @defaultValue 120000 */
  timeoutMs?: number;
  /** `work_mem` for the whole-log window sorts, MB. @defaultValue 64 */
  workMemMb?: number;
}

export async function runIntegrityChecks(
  pool: pg.Pool,
  opts: IntegrityChecksOptions = {},
): Promise<IntegrityScanResult> {
  const started = performance.now();
  return withReadOnly(
    pool,
    { snapshot: true, timeoutMs: opts.timeoutMs ?? 120_000, workMemMb: opts.workMemMb ?? 64 },
    async (s) => {
      const o = { tenantId: opts.tenantId, cap: opts.cap };
      const checks: IntegrityChecks = {
        payloadHashDrift: await hashDriftIn(s, o),
        traceSeqContinuity: await continuityIn(s, o),
        traceSeqOrdering: await orderingIn(s, o),
        traceStartMismatch: await traceStartIn(s, o),
        eventAfterFinish: await afterFinishIn(s, o),
        cursorAheadOfTail: await cursorAheadIn(s, o),
        openFailures: await openFailuresIn(s, o),
        openRuns: await openRunsIn(s, {
          ...o,
          activeReplayJobs: opts.activeReplayJobs,
          stuckAfterMs: opts.stuckAfterMs,
        }),
      };
      const parity = await paritySnapshotIn(s, o);
      const failed = failedChecks(checks);
      return {
        tenantId: opts.tenantId ?? null,
        method: 'single-query',
        chunkSize: null,
        chunks: 1,
        scanned: parity.tenants.reduce((n, t) => n + t.eventCount, 0),
        lookbacks: 0,
        durationMs: roundMs(performance.now() - started),
        checks,
        parity,
        failed,
        ok: failed.length === 0,
      };
    },
  );
}
