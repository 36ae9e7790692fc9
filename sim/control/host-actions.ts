import type { Simulator } from '../simulator.js';
import type { BackupRecord } from './backups.js';

/** An answer of a host action: what ran and what the host looks like now. */
export interface HostActionResult {
  status: number;
  body: Record<string, unknown>;
}

export const KNOWN_RELEASES = ['v1', 'v2-broken'];

function ok(action: string, extra: Record<string, unknown> = {}): HostActionResult {
  return { status: 200, body: { ok: true, action, ...extra } };
}

function refused(status: number, action: string, error: string): HostActionResult {
  return { status, body: { ok: false, action, error } };
}

/**
 * The host-side actions a runbook needs and DecisionGraph's API does not offer. Every accepted call is counted,
 * so a test can prove an action ran exactly once.
 */
export async function runHostAction(
  sim: Simulator,
  name: string,
  body: Record<string, unknown>,
): Promise<HostActionResult> {
  const startedAt = sim.clock.now();
  try {
    return await performHostAction(sim, name, body);
  } finally {
    // The host's own work (a dump, a restore) is part of the floor a client cannot go below.
    sim.imposed.record('host', startedAt, sim.clock.now());
  }
}

async function performHostAction(
  sim: Simulator,
  name: string,
  body: Record<string, unknown>,
): Promise<HostActionResult> {
  switch (name) {
    case 'restart': {
      sim.countHostAction('restart');
      // Answer once the node is down; the boot (bootDelayMs) goes on in the background, as a service manager's
      // restart does.
      const { down, up } = sim.restartNode();
      up.catch(() => undefined);
      await down;
      return ok('restart', { node: sim.nodeState });
    }
    case 'stop':
      sim.countHostAction('stop');
      // A process that ignores its stop signal (stuck, or escaped its service's control): the service manager
      // answers as if it stopped, and the node goes on answering.
      if (sim.host.faults.has('stop-ignored')) return ok('stop', { node: 'down' });
      await sim.stopNode();
      return ok('stop', { node: sim.nodeState });
    case 'start':
      sim.countHostAction('start');
      await sim.startNode();
      return ok('start', { node: sim.nodeState });
    case 'switch-release': {
      const release = body.release;
      if (typeof release !== 'string' || !KNOWN_RELEASES.includes(release)) {
        return refused(400, 'switch_release', `release must be one of ${KNOWN_RELEASES.join(', ')}`);
      }
      sim.countHostAction('switch_release');
      const previous = sim.host.release;
      sim.switchRelease(release);
      return ok('switch_release', { previous, release });
    }
    case 'restore-postgres':
      sim.countHostAction('restore_postgres');
      await sim.clear('postgres-down');
      return ok('restore_postgres');
    case 'stop-writes':
      sim.countHostAction('stop_writes');
      sim.host.writesStopped = true;
      return ok('stop_writes', { writes_stopped: true });
    case 'resume-writes':
      sim.countHostAction('resume_writes');
      sim.host.writesStopped = false;
      return ok('resume_writes', { writes_stopped: false });
    case 'preserve-database': {
      sim.countHostAction('preserve_database');
      const label = typeof body.label === 'string' && body.label !== '' ? body.label : 'preserved';
      const backup: BackupRecord = await sim.backups.create(label);
      return ok('preserve_database', { backup });
    }
    case 'restore-backup': {
      const artifact = body.artifact;
      if (typeof artifact !== 'string' || artifact === '')
        return refused(400, 'restore_backup', 'artifact is required');
      if (!sim.backups.find(artifact)) return refused(404, 'restore_backup', `no backup matches ${artifact}`);
      sim.countHostAction('restore_backup');
      const backup = await sim.backups.restore(artifact);
      sim.forgetRestoredFaults();
      return ok('restore_backup', { backup });
    }
    default:
      return refused(404, name, `unknown host action ${name}`);
  }
}
