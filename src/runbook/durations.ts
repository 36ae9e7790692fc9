/** A duration as people read it in a reason or an evidence line: whole minutes, else seconds, else milliseconds. */
export function formatMs(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}
