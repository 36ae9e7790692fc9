import { randomBytes } from 'node:crypto';
import { catchUp } from '../projector/catch-up.js';
import { PROJECTIONS } from '../projector/names.js';
import { appendEvent } from '../store/append.js';
import type { NewEvent } from '../store/validate-event.js';
import { rfc3339 } from '../util/time.js';
import type { FaultHost, FaultSwitch } from './fault-host.js';

/** Events that reach the log while no worker runs, e.g. written just before a crash. */
function behindEvents(tenantId: string, traceId: string, now: string): NewEvent[] {
  const base = {
    tenantId,
    traceId,
    occurredAt: now,
    actorId: 'intake-agent',
    actorType: 'agent',
    producerId: 'intake-agent',
    sourceSystem: 'support-desk',
    sourceSubsystem: 'intake',
    correlationId: null,
    causationEventId: null,
    schemaVersion: 1,
    tags: [],
  };
  const payloads: [string, Record<string, unknown>][] = [
    [
      'TraceStarted',
      {
        title: 'Refund request received during the outage',
        workflow: 'refund_approval',
        primary_entity: { type: 'order', system: 'shop', id: `order-${traceId.slice(-6)}` },
      },
    ],
    ['InputObserved', { input_id: `in-${traceId}`, channel: 'email', summary: 'customer asks for a refund' }],
    ['PolicyEvaluated', { policy_id: 'refund-limit', policy_version: '3', result: 'pass', rule_hits: 1 }],
  ];
  return payloads.map(([eventType, payload], traceSeq) => ({
    ...base,
    eventId: `${tenantId}.${traceId}.${traceSeq}`,
    eventType,
    traceSeq,
    idempotencyKey: `${traceId}:${traceSeq}`,
    payload,
  }));
}

/**
 * Appends a few events to one tenant without waking the projector: that tenant's live workers are stopped first
 * (as after a restart; other tenants' keep running), so
 * pending_events > 0 and every trace read answers 409 until an append or a catch_up replay. Clearing catches
 * the projections up directly (no run row).
 */
export const projectionsBehind: FaultSwitch = {
  async inject(h: FaultHost, tenantId: string) {
    h.node().workers.stopTenant(tenantId);
    const traceId = `trace-behind-${randomBytes(3).toString('hex')}`;
    const now = rfc3339(h.clock.now());
    for (const event of behindEvents(tenantId, traceId, now)) await appendEvent(h.pool, h.clock, event, false);
    return traceId;
  },
  async clear(h: FaultHost, _injected: unknown, tenantId: string) {
    for (const projection of PROJECTIONS) await catchUp(h.pool, { clock: h.clock, tenantId, projection });
  },
};
