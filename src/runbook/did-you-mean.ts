/**
 * Optimal-string-alignment distance (Damerau–Levenshtein without repeated edits of one substring): insertions,
 * deletions, substitutions and transpositions of two neighbouring characters each cost 1, so `restrat` is one edit
 * from `restart`. Works on code points.
 */
export function editDistance(a: string, b: string): number {
  const s = [...a];
  const t = [...b];
  if (s.length === 0) return t.length;
  if (t.length === 0) return s.length;
  // Three rolling rows are enough: a transposition looks back two rows.
  let prevPrev: number[] = new Array(t.length + 1).fill(0);
  let prev: number[] = Array.from({ length: t.length + 1 }, (_, j) => j);
  let curr: number[] = new Array(t.length + 1).fill(0);
  for (let i = 1; i <= s.length; i++) {
    curr[0] = i;
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let best = Math.min((prev[j] ?? 0) + 1, (curr[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) {
        best = Math.min(best, (prevPrev[j - 2] ?? 0) + 1);
      }
      curr[j] = best;
    }
    [prevPrev, prev, curr] = [prev, curr, prevPrev];
  }
  return prev[t.length] ?? 0;
}

/** Words longer than this are not typos of a short keyword, and comparing them would only cost time. */
const MAX_WORD_LENGTH = 40;

/**
 * The candidate closest to `word` (case-insensitive), if it is close enough to be a plausible typo: at most one edit
 * for words of up to four characters, two up to eight, three beyond. Ties go to the earlier candidate.
 */
export function closestWord(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  if (w.length === 0 || w.length > MAX_WORD_LENGTH) return undefined;
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = editDistance(w, candidate.toLowerCase());
    const allowed = candidate.length <= 4 ? 1 : candidate.length <= 8 ? 2 : 3;
    if (d <= allowed && d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}
