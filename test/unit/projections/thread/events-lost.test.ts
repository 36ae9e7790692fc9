import { describe, expect, it } from 'vitest';
import { eventsLost } from '../../../../src/projections/thread/approval-target.js';
import { buildThreadModel } from '../../../../src/projections/thread/index.js';
import type { ScenarioName } from '../../../../src/runbook/index.js';
import { run, start } from '../../runbook/driver.js';
import { World } from '../../runbook/world.js';

// The restore approval's On: line says how many events the restore would lose: the tail this run read minus the
// last log_seq the backup listing gives, or plainly why that is not known.

function atRestoreApproval(name: ScenarioName, parityUnreachable = false) {
  const w = new World();
  w.parityUnreachable = parityUnreachable;
  if (name === 'event-log') w.integrity = { payload_hash_drift: 2, trace_seq_step: 1 };
  else w.smokeFailing = ['projection_health', 'trace_read'];
  const d = start(w, name, { traceId: 'trace-demo', previousRelease: 'v1.4.2' });
  const probe = run(d, {
    approve: (cmd) => (cmd.stepId.startsWith('approve_') && cmd.guards.startsWith('restore') ? 'stop' : 'approve'),
  });
  expect(probe.state.pendingApproval?.guards).toMatch(/^restore/);
  const model = buildThreadModel(probe.events, probe.scenario);
  const tail = (probe.state.steps.gather_parity ?? probe.state.steps.read_tail)?.outputs.maxLogSeq;
  return { model, tail: typeof tail === 'number' ? tail : undefined };
}

describe('events a restore would lose', () => {
  it('counts the events after the backup against the tail the run read (event-log)', () => {
    const { model, tail } = atRestoreApproval('event-log');
    expect(tail).toBeGreaterThan(68);
    const t = tail as number;
    expect(eventsLost(model, t - 68)).toBe(
      `Would lose 68 events written after the backup (tail seq ${t}, backup up to ${t - 68}).`,
    );
    expect(eventsLost(model, t)).toBe(
      `Would lose 0 events written after the backup (tail seq ${t}, backup up to ${t}).`,
    );
  });

  it('states an impossible or inconsistent position plainly instead of a count', () => {
    const { model, tail } = atRestoreApproval('event-log');
    const t = tail as number;
    expect(eventsLost(model, -3)).toBe(
      "The listing gives the backup's last event seq as -3, which is not a position: how many events it would lose is not known.",
    );
    expect(eventsLost(model, t + 5)).toBe(
      `The listing says the backup holds the event log up to seq ${t + 5}, ahead of the current tail seq ${t}: the listing or the database is wrong, and how many events it would lose is not known.`,
    );
  });

  it('counts against the tail upgrade reads once the runtime is stopped', () => {
    const { model, tail } = atRestoreApproval('upgrade');
    const t = tail as number;
    expect(eventsLost(model, t - 40)).toBe(
      `Would lose 40 events written after the backup (tail seq ${t}, backup up to ${t - 40}).`,
    );
  });

  it('says the count is unknown when the listing has no position, or the tail read failed and why (upgrade)', () => {
    const { model } = atRestoreApproval('event-log');
    expect(eventsLost(model, undefined)).toContain('how many is not known, because the backup listing reports no');
    const upgrade = atRestoreApproval('upgrade', true);
    expect(upgrade.tail).toBeUndefined();
    expect(eventsLost(upgrade.model, 120)).toBe(
      'The backup holds the event log up to seq 120; reading the current tail failed (DG_ERR_SQL_UNREACHABLE: ' +
        'dg_event_log COUNT(*) and MAX(log_seq) could not be measured: connect ECONNREFUSED 10.0.4.20:5432), so how many events it would lose is not known.',
    );
  });
});
