import type pg from 'pg';
import type { SimClock } from '../util/clock.js';
import { rfc3339 } from '../util/time.js';

/** A `dg_projection_runs` row, rendered as DecisionGraph's API does (metadata_json stays a string). */
export interface RunRow {
  job_id: string;
  tenant_id: string;
  projection_name: string;
  mode: string;
  status: string;
  requested_at: string;
  started_at: string | null;
  finished_at: string | null;
  since_log_seq: number;
  until_log_seq: number | null;
  processed_events: number;
  last_log_seq: number;
  error_code: string | null;
  error_message: string | null;
  metadata_json: string;
}

const RUN_COLUMNS =
  'job_id, tenant_id, projection_name, mode, status, requested_at, started_at, finished_at, since_log_seq, ' +
  'until_log_seq, processed_events, last_log_seq, error_code, error_message, metadata_json';

export interface NewRun {
  jobId: string;
  tenantId: string;
  projection: string;
  mode: string;
  sinceLogSeq: number;
  untilLogSeq: number | null;
  metadataJson: string;
}

export async function insertRun(pool: pg.Pool, clock: SimClock, run: NewRun, readOnly: boolean): Promise<RunRow> {
  const client = await pool.connect();
  try {
    await client.query(readOnly ? 'BEGIN READ ONLY' : 'BEGIN');
    await client.query(
      `INSERT INTO dg_projection_runs (job_id, tenant_id, projection_name, mode, status, requested_at, since_log_seq,
         until_log_seq, processed_events, last_log_seq, metadata_json)
       VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7, 0, 0, $8)`,
      [
        run.jobId,
        run.tenantId,
        run.projection,
        run.mode,
        rfc3339(clock.now()),
        run.sinceLogSeq,
        run.untilLogSeq,
        run.metadataJson,
      ],
    );
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
  const row = await getRun(pool, run.jobId);
  if (!row) throw new Error(`run ${run.jobId} vanished after insert`);
  return row;
}

export async function getRun(pool: pg.Pool, jobId: string): Promise<RunRow | null> {
  const r = await pool.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM dg_projection_runs WHERE job_id = $1`, [jobId]);
  return r.rows[0] ?? null;
}

export async function markRunning(pool: pg.Pool, clock: SimClock, jobId: string): Promise<void> {
  await pool.query(
    `UPDATE dg_projection_runs SET status = 'running', started_at = $2 WHERE job_id = $1 AND status = 'queued'`,
    [jobId, rfc3339(clock.now())],
  );
}

export async function recordProgress(pool: pg.Pool, jobId: string, processed: number, lastLogSeq: number) {
  await pool.query(
    `UPDATE dg_projection_runs SET processed_events = $2, last_log_seq = $3 WHERE job_id = $1 AND status = 'running'`,
    [jobId, processed, lastLogSeq],
  );
}

export async function finishRun(
  pool: pg.Pool,
  clock: SimClock,
  jobId: string,
  outcome: {
    status: 'completed' | 'failed';
    processed: number;
    lastLogSeq: number;
    errorCode?: string;
    errorMessage?: string;
  },
): Promise<void> {
  await pool.query(
    `UPDATE dg_projection_runs SET status = $2, finished_at = $3, processed_events = $4, last_log_seq = $5,
       error_code = $6, error_message = $7 WHERE job_id = $1 AND status = 'running'`,
    [
      jobId,
      outcome.status,
      rfc3339(clock.now()),
      outcome.processed,
      outcome.lastLogSeq,
      outcome.errorCode ?? null,
      outcome.errorMessage ?? null,
    ],
  );
}

export async function cancelRun(pool: pg.Pool, clock: SimClock, jobId: string): Promise<RunRow | null> {
  await pool.query(
    `UPDATE dg_projection_runs SET status = 'cancelled', finished_at = $2
      WHERE job_id = $1 AND status IN ('queued', 'running')`,
    [jobId, rfc3339(clock.now())],
  );
  return getRun(pool, jobId);
}
