import { expect } from 'vitest';
import { type RunExport, RunExportSchema } from '../../src/projections/summary/index.js';
import { pngSize } from '../helpers/png.js';
import type { E2E } from './harness.js';

/** The names of a run's summary files, in the order they are shared. */
export function summaryFileNames(runId: string): { name: string }[] {
  return ['md', 'json', 'png'].map((ext) => ({ name: `incident-${runId}.${ext}` }));
}

/** The run's summary files as Slack received them: shared once, together, last in the thread; then read. */
export async function uploadedSummary(
  e2e: E2E,
  runId: string,
): Promise<{ markdown: string; exported: RunExport; png: Buffer }> {
  await e2e.bot.summaryFile?.settled(runId);
  expect(e2e.sharedFiles(runId)).toHaveLength(1);
  const message = e2e.thread(runId).at(-1);
  expect(message?.files).toMatchObject(summaryFileNames(runId));
  const content = (i: number) => {
    const upload = e2e.fake.uploads().find((u) => u.file_id === message?.files?.[i]?.id);
    if (!upload?.completed || upload.content === undefined) throw new Error(`file ${i} of ${runId} not shared`);
    return upload.content;
  };
  return {
    markdown: content(0).toString('utf8'),
    exported: RunExportSchema.parse(JSON.parse(content(1).toString('utf8'))),
    png: content(2),
  };
}

/** A PNG a person can read on a phone: the signature, a sensible size, and more than a blank canvas. */
export function expectReadablePng(png: Buffer): void {
  const { width, height } = pngSize(png);
  expect(width).toBeGreaterThanOrEqual(1000);
  expect(width).toBeLessThanOrEqual(4000);
  expect(height).toBeGreaterThanOrEqual(400);
  expect(height).toBeLessThanOrEqual(3000);
  expect(png.byteLength).toBeGreaterThan(10_000);
}
