export { renderSummaryBlocks } from './blocks.js';
export { buildIncidentSummary } from './build.js';
export type { ScenarioCatalog } from './context.js';
export { type RunGist, summaryGist } from './gist.js';
export { mdCode, mdText, renderSummaryMarkdown } from './markdown.js';
export { buildRunExport, RUN_EXPORT_VERSION, type RunExport, RunExportSchema, renderRunExport } from './run-export.js';
export type * from './types.js';
