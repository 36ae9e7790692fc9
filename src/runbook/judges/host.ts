import type { Evidence, EvidenceSource } from '../events.js';
import type { JsonObject } from '../json.js';
import {
  type BackupArtifact,
  type HostActionMeasurement,
  hostActionOf,
  type ListBackupsMeasurement,
} from '../measurements.js';
import { evidence } from './evidence.js';
import type { JudgeContext, Verdict } from './types.js';

const TIMEOUT = 'DG_ERR_HOST_ACTION_TIMEOUT';
const FAILED = 'DG_ERR_HOST_ACTION_FAILED';
const UNREACHABLE = 'DG_ERR_HOST_ACTION_UNREACHABLE';

function hostSource(m: HostActionMeasurement, ctx: JudgeContext): EvidenceSource {
  const action = hostActionOf(ctx.executor) ?? ctx.executor;
  if (m.mode === 'http')
    return { kind: 'host', method: m.method, path: action, status: m.status, latencyMs: m.durationMs };
  if (m.mode === 'command') return { kind: 'host', path: action, latencyMs: m.durationMs };
  return { kind: 'host', path: action };
}

function tail(text: string | undefined): string | undefined {
  if (text === undefined || text === '') return undefined;
  return text.length > 600 ? `…${text.slice(-600)}` : text;
}

/**
 * A host action ran (or is left to a person). A command passes on exit 0, a webhook on 2xx. A timeout or a
 * failure is not retried on its own: the action may have half happened, so a person decides (Retry re-probes).
 * A webhook that refused the connection did nothing and may be tried again.
 */
export function judgeHostCompleted(m: HostActionMeasurement, ctx: JudgeContext): Verdict {
  const action = hostActionOf(ctx.executor) ?? ctx.executor;
  const source = hostSource(m, ctx);
  if (m.mode === 'manual') {
    return {
      result: 'manual',
      instructions: m.instructions,
      evidence: [evidence(`${action}`, 'manual: waiting for a person', source)],
    };
  }
  if (m.mode === 'command') {
    const shown = m.argv.join(' ').slice(0, 300);
    const detail = tail(m.outputTail);
    const item = evidence(
      `${action} exit code`,
      m.timedOut ? 'timed out' : (m.exitCode ?? `signal ${m.signal}`),
      source,
      {
        expected: 0,
        ok: !m.timedOut && m.exitCode === 0,
        detail: `${shown}${detail ? `\n${detail}` : ''}`,
      },
    );
    if (m.timedOut) {
      return {
        result: 'failed',
        error: {
          code: TIMEOUT,
          message: `${action} did not finish in time (${m.durationMs} ms); it may have partly run`,
        },
        transient: false,
        evidence: [item],
      };
    }
    if (m.exitCode !== 0) {
      return {
        result: 'failed',
        error: { code: FAILED, message: `${action} exited with ${m.exitCode ?? `signal ${m.signal}`}` },
        transient: false,
        evidence: [item],
      };
    }
    return { result: 'passed', outputs: { action, mode: 'command', exitCode: 0 }, evidence: [item] };
  }
  const ok = m.status !== null && m.status >= 200 && m.status < 300;
  const item = evidence(
    `${action} ${m.method}`,
    m.timedOut ? 'timed out' : (m.status ?? `no answer (${m.error ?? 'refused'})`),
    source,
    {
      expected: '2xx',
      ok,
      ...(tail(m.bodyTail) ? { detail: tail(m.bodyTail) as string } : {}),
    },
  );
  if (m.timedOut) {
    return {
      result: 'failed',
      error: { code: TIMEOUT, message: `${action} webhook did not answer in time; it may have run` },
      transient: false,
      evidence: [item],
    };
  }
  if (m.status === null) {
    return {
      result: 'failed',
      error: { code: UNREACHABLE, message: `${action} webhook could not be reached: ${m.error ?? 'no answer'}` },
      transient: true,
      evidence: [item],
    };
  }
  if (!ok) {
    return {
      result: 'failed',
      error: { code: FAILED, message: `${action} webhook answered ${m.status}` },
      transient: false,
      evidence: [item],
    };
  }
  return { result: 'passed', outputs: { action, mode: 'http', status: m.status }, evidence: [item] };
}

function humanSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = bytes;
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return `${u === 0 ? n : n.toFixed(1)} ${units[u]}`;
}

/** `label · created_at · size`, what a person needs to pick an artifact. */
export function describeArtifact(a: BackupArtifact): string {
  return `${a.label || a.id} · ${a.created_at} · ${humanSize(a.size_bytes)}`;
}

/**
 * The artifacts `list_backups` printed, newest first, and a preferred one: the newest whose label contains
 * `expected.preferLabel` (e.g. `pre-upgrade`), else the newest.
 */
export function judgeBackupsListed(m: ListBackupsMeasurement, ctx: JudgeContext): Verdict {
  const done = judgeHostCompleted(m, ctx);
  if (done.result !== 'passed') return done;
  const artifacts = [...(m.artifacts ?? [])].sort((a, b) =>
    a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0,
  );
  const prefer = typeof ctx.expected.preferLabel === 'string' ? ctx.expected.preferLabel.toLowerCase() : undefined;
  const preferred =
    (prefer !== undefined ? artifacts.find((a) => a.label.toLowerCase().includes(prefer)) : undefined) ?? artifacts[0];
  const outputs: JsonObject = {
    artifacts: artifacts.map((a) => ({
      id: a.id,
      path: a.path,
      created_at: a.created_at,
      size_bytes: a.size_bytes,
      label: a.label,
      display: describeArtifact(a),
    })),
    count: artifacts.length,
    ...(preferred ? { preferred: preferred.id } : {}),
  };
  const items: Evidence[] = [
    ...done.evidence,
    evidence('backup artifacts found', artifacts.length, hostSource(m, ctx), {
      ...(artifacts.length > 0 ? { detail: artifacts.slice(0, 5).map(describeArtifact).join('\n') } : {}),
    }),
  ];
  return { result: 'passed', outputs, evidence: items };
}
