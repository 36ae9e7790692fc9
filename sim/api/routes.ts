import type { Route } from '../http/router.js';
import { postEvent } from './events.js';
import { graphContext, graphEdges } from './graph.js';
import { healthz, projectionsHealth } from './health.js';
import { listPrecedents } from './precedents.js';
import { cancelReplay, createReplay, getReplay } from './replays.js';
import { getTrace } from './traces.js';
import { getWorkflowById, getWorkflows } from './workflows.js';

/** The routes the simulator serves, with DecisionGraph's role groups (`WEB/router.ex`). */
export const ROUTES: readonly Route[] = [
  { method: 'GET', path: '/api/healthz', group: null, handler: healthz },
  { method: 'POST', path: '/api/v1/events', group: 'writer', handler: postEvent },
  { method: 'GET', path: '/api/v1/traces/:trace_id', group: 'reader', handler: getTrace },
  { method: 'GET', path: '/api/v1/graph/context', group: 'reader', handler: graphContext },
  { method: 'GET', path: '/api/v1/graph/edges', group: 'reader', handler: graphEdges },
  { method: 'GET', path: '/api/v1/precedents', group: 'reader', handler: listPrecedents },
  { method: 'GET', path: '/api/v1/projections/health', group: 'reader', handler: projectionsHealth },
  { method: 'GET', path: '/api/v1/workflows', group: 'reader', handler: getWorkflows },
  { method: 'GET', path: '/api/v1/workflows/:workflow_id', group: 'reader', handler: getWorkflowById },
  { method: 'POST', path: '/api/v1/admin/replays', group: 'admin', handler: createReplay },
  { method: 'GET', path: '/api/v1/admin/replays/:job_id', group: 'admin', handler: getReplay },
  { method: 'POST', path: '/api/v1/admin/replays/:job_id/cancel', group: 'admin', handler: cancelReplay },
];
