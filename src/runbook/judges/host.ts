import type { Evidence, EvidenceSource } from '../events.js';
import type { JsonObject } from '../json.js';
import {
  type BackupArtifact,
  type HostActionMeasurement,
  hostActionOf,
  type ListBackupsMeasurement,
} from '../measurements.js';
import { clipLine, MAX_ARTIFACT_LABEL } from '../outside-text.js';
import { evidence } from './evidence.js';
import type { JudgeContext, Verdict } from './types.js';

const TIMEOUT = 'DG_ERR_HOST_ACTION_TIMEOUT';
const FAILED = 'DG_ERR_HOST_ACTION_FAILED';
const UNREACHABLE = 'DG_ERR_HOST_ACTION_UNREACHABLE';
const BAD_OUTPUT = 'DG_ERR_HOST_ACTION_BAD_OUTPUT';

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
 * Exit 0 or a 2xx, yet the host-action layer says the action did not succeed (a backup list that does not parse):
 * its reason stands. Not transient: the same output would come back.
 */
function unexplainedFailure(action: string, failure: { code: string; message: string }, item: Evidence): Verdict {
  return {
    result: 'failed',
    error: {
      code: failure.code.slice(0, 100) || FAILED,
      message: failure.message.slice(0, 2000) || `${action} failed`,
    },
    transient: false,
    evidence: [{ ...item, ok: false, detail: failure.message.slice(0, 1000) }],
  };
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
    if (m.failure) return unexplainedFailure(action, m.failure, item);
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
  if (m.failure || m.error) {
    return unexplainedFailure(action, m.failure ?? { code: FAILED, message: m.error as string }, item);
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

/** `label · created_at · size`, what a person needs to pick an artifact; the label is cut to one short line. */
export function describeArtifact(a: BackupArtifact): string {
  const label = clipLine(a.label, MAX_ARTIFACT_LABEL) || clipLine(a.id, MAX_ARTIFACT_LABEL);
  return `${label} · ${clipLine(a.created_at, 40)} · ${humanSize(a.size_bytes)}`;
}

/** Artifacts kept in the step's outputs (newest first, the preferred one always among them). */
export const MAX_KEPT_ARTIFACTS = 50;
/** An artifact's id or path becomes an option id and an action parameter: too long for that, it is left out. */
const MAX_ARTIFACT_REF = 200;

function usable(a: BackupArtifact): boolean {
  const ref = (v: unknown) => typeof v === 'string' && v !== '' && v.length <= MAX_ARTIFACT_REF;
  return ref(a.id) && ref(a.path) && typeof a.created_at === 'string' && Number.isFinite(a.size_bytes);
}

/**
 * The artifacts `list_backups` printed, newest first, and a preferred one: the newest whose label contains
 * `expected.preferLabel` (e.g. `pre-upgrade`), else the newest. A listing that failed, or whose output could not
 * be read, fails the step with that reason. A listing that found nothing passes with `count: 0` and says so in
 * its evidence: the decision that follows then offers typing an artifact by hand (recommended) or aborting.
 */
export function judgeBackupsListed(m: ListBackupsMeasurement, ctx: JudgeContext): Verdict {
  const done = judgeHostCompleted(m, ctx);
  if (done.result !== 'passed') return done;
  const source = hostSource(m, ctx);
  if (m.artifacts === undefined) {
    return {
      result: 'failed',
      error: { code: BAD_OUTPUT, message: 'list_backups succeeded but no backup list could be read from its output' },
      transient: false,
      evidence: [...done.evidence, evidence('backup artifacts found', 'unreadable', source, { ok: false })],
    };
  }
  const listed = m.artifacts.filter(usable).map((a) => ({ ...a, label: typeof a.label === 'string' ? a.label : '' }));
  const dropped = m.artifacts.length - listed.length;
  const artifacts = [...listed].sort((a, b) =>
    a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0,
  );
  const prefer = typeof ctx.expected.preferLabel === 'string' ? ctx.expected.preferLabel.toLowerCase() : undefined;
  const preferred =
    (prefer !== undefined ? artifacts.find((a) => a.label.toLowerCase().includes(prefer)) : undefined) ?? artifacts[0];
  const kept = artifacts.slice(0, MAX_KEPT_ARTIFACTS);
  if (preferred !== undefined && !kept.includes(preferred)) kept[kept.length - 1] = preferred;
  const outputs: JsonObject = {
    artifacts: kept.map((a) => ({
      id: a.id,
      path: a.path,
      created_at: clipLine(a.created_at, 40),
      size_bytes: a.size_bytes,
      label: clipLine(a.label, 200),
      display: describeArtifact(a),
    })),
    count: artifacts.length,
    ...(preferred ? { preferred: preferred.id } : {}),
  };
  const notes = [
    ...(kept.length < artifacts.length ? [`${kept.length} of them kept: the newest and the preferred one`] : []),
    ...(dropped > 0
      ? [`${dropped} ${dropped === 1 ? 'entry' : 'entries'} left out: id or path empty or too long`]
      : []),
  ];
  const found =
    artifacts.length === 0
      ? evidence('backup artifacts found', 0, source, {
          expected: '≥ 1',
          ok: false,
          detail:
            'the listing ran but named no backup: type the id or path of one by hand, or abort' +
            (notes.length > 0 ? ` (${notes.join('; ')})` : ''),
        })
      : evidence('backup artifacts found', artifacts.length, source, {
          detail: [...kept.slice(0, 5).map(describeArtifact), ...notes].join('\n'),
        });
  return { result: 'passed', outputs, evidence: [...done.evidence, found] };
}
