// Edit distance for the generator's "no near-duplicates, nothing too close to a dataset name" rules.

/** Levenshtein distance (insert/delete/substitute, cost 1), case-insensitive. */
export function editDistance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  if (a === b) return 0;
  if (!a.length) return b.length;
  if (!b.length) return a.length;
  let prev = new Array<number>(b.length + 1);
  let cur = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const sub = prev[j - 1] + (a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1);
      cur[j] = Math.min(sub, prev[j] + 1, cur[j - 1] + 1);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

/**
 * Two names are "too close" when one could be read as a typo of the other: distance at most 2, or at
 * most a quarter of the longer name's length. Short names (< 4 chars) must differ by at least 2.
 */
export function tooClose(a: string, b: string): boolean {
  const d = editDistance(a, b);
  const longer = Math.max(a.length, b.length);
  return d <= Math.max(longer < 4 ? 1 : 2, Math.floor(longer / 4));
}
