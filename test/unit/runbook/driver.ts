import type { AccessPolicy, Actor, ScenarioName } from '../../../src/runbook/index.js';
import { type Crew, type Drive, QUICK, start as startDrive } from '../../helpers/engine-drive.js';
import type { World } from '../../helpers/engine-world.js';

// The engine tests' crew on a quick clock: only polls and backoffs move it.

export {
  append,
  apply,
  type Drive,
  eventsOf,
  type Policy,
  run,
  runJob,
  statuses,
  step,
  T0,
} from '../../helpers/engine-drive.js';

export const STARTER: Actor = { id: 'U012ABC', name: 'ana', via: 'slack' };
export const APPROVER: Actor = { id: 'U034DEF', name: 'bo', via: 'slack' };
export const ACCESS: AccessPolicy = {
  operators: ['U012ABC', 'U034DEF', 'S0OPS'],
  approvers: ['U034DEF'],
  twoPersonRule: true,
};
const CREW: Crew = { starter: STARTER, approver: APPROVER, access: ACCESS };

export function start(
  world: World,
  name: ScenarioName,
  params: Record<string, string> = { traceId: 'trace-demo' },
  runId = 'run-1',
): Drive {
  return startDrive(world, name, { crew: CREW, pace: QUICK, params, runId });
}
