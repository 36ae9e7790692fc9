export { renderSummaryBlocks } from './blocks.js';
export { buildIncidentSummary } from './build.js';
export type { ScenarioCatalog } from './context.js';
export { type RunGist, summaryGist } from './gist.js';
export { mdCode, mdText, renderSummaryMarkdown } from './markdown.js';
export type * from './types.js';
