// Cheap lexical analysis of one text: word tokens with offsets, and the capitalised / quoted spans
// that may be names. No dataset knowledge here; detect.ts ranks what this finds.
import { legalSuffixFamily, NAME_PARTICLES, NON_NAME_WORDS, PERSON_TITLES, MAX_SUFFIX_WORDS } from "./lexicon";

export interface Token {
  text: string;
  start: number;
  end: number;
  /** True when only whitespace separates it from the previous token (no comma, colon, bracket...). */
  joined: boolean;
  /** True when the token starts a sentence (text start, or after . ! ? : newline or a quote opening). */
  sentenceStart: boolean;
}

// Letters/digits, with inner hyphens, apostrophes, dots, ampersands and slashes ("Al-Kuwaiti", "O'Neil",
// "S.A.", "A/S"). Trailing punctuation is trimmed below.
const WORD = /[\p{L}\p{N}][\p{L}\p{N}\p{M}'’\-.&/]*|&/gu;
const ABBREV_WITH_DOT = new Set([
  "inc",
  "corp",
  "co",
  "ltd",
  "bros",
  "dr",
  "mr",
  "mrs",
  "ms",
  "prof",
  "st",
  "jr",
  "sr",
  "no",
]);

export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let prevEnd = 0;
  for (const m of text.matchAll(WORD)) {
    let word = m[0];
    const start = m.index!;
    // Possessive endings belong to the sentence, not the name: "Lintel's" -> "Lintel".
    word = word.replace(/['’]s?$/u, "");
    // A trailing dot is part of the word only for abbreviations ("Inc.", "Dr.") and dotted acronyms ("S.A.").
    if (word.endsWith(".")) {
      const bare = word.slice(0, -1);
      // Initials ("J. R. Tolkov") keep their dot too.
      const keep = ABBREV_WITH_DOT.has(bare.toLowerCase()) || /^(\p{L}\.)+\p{L}$/u.test(bare) || /^\p{Lu}$/u.test(bare);
      if (!keep) word = bare.replace(/[.\-&/]+$/u, "");
    }
    if (word !== "&") word = word.replace(/[\-&/'’]+$/u, "");
    if (!word) continue;
    const gap = text.slice(prevEnd, start);
    const joined = out.length > 0 && /^[ \t\u00a0]+$/u.test(gap);
    const before = text.slice(0, start).trimEnd();
    const prevTok = out[out.length - 1];
    const prevIsAbbrev = prevTok !== undefined && prevTok.text.endsWith(".") && gap.trim() === "";
    const sentenceStart =
      before === "" ||
      (!prevIsAbbrev && /[.!?:;\n"“«(\[]$/u.test(before)) ||
      /\n\s*$/u.test(text.slice(prevEnd, start));
    out.push({ text: word, start, end: start + word.length, joined, sentenceStart });
    prevEnd = start + word.length;
  }
  return out;
}

export function isCapitalised(word: string): boolean {
  return /^\p{Lu}/u.test(word) || /^\p{N}+\p{L}/u.test(word);
}

export interface Span {
  text: string;
  start: number;
  end: number;
  /** Token texts of the span. */
  words: string[];
  quoted: boolean;
  sentenceStart: boolean;
  /** Lower-case words just before the span (up to 6), nearest last. */
  before: string[];
  /** Lower-case words just after the span (up to 6). */
  after: string[];
  /** A person title right before the span ("Dr.", "Mrs"), lower-case without the dot. */
  title?: string;
  /** Number of trailing words that form a legal suffix (0 when none). */
  suffixWords: number;
}

function suffixLength(words: string[]): number {
  for (let n = Math.min(MAX_SUFFIX_WORDS, words.length - 1); n >= 1; n--) {
    const tail = words.slice(words.length - n).join(" ");
    if (legalSuffixFamily(tail) >= 0) return n;
  }
  return 0;
}

/** Capitalised multi-word spans and single capitalised words (sentence-initial function words dropped). */
export function capitalisedSpans(text: string): Span[] {
  const toks = tokenize(text);
  const spans: Span[] = [];
  let i = 0;
  while (i < toks.length) {
    if (!isCapitalised(toks[i].text) && legalSuffixFamily(toks[i].text) < 0) {
      i++;
      continue;
    }
    let j = i + 1;
    // Extend over capitalised words and lower-case particles that sit between capitalised words.
    while (j < toks.length && toks[j].joined) {
      // A legal suffix ends a company name: "Wnzatj SAS and Qorvath Ltd" is two names.
      if (suffixLength(toks.slice(i, j).map((t) => t.text)) > 0) break;
      const w = toks[j].text;
      if (isCapitalised(w) || legalSuffixFamily(w) >= 0) {
        j++;
        continue;
      }
      // Lower-case particles ("van der", "of the") may sit between capitalised words; "and" joins two names.
      let p = j;
      while (
        p < toks.length &&
        toks[p].joined &&
        NAME_PARTICLES.has(toks[p].text.toLowerCase()) &&
        toks[p].text !== "and" &&
        p - j < 3
      )
        p++;
      if (p > j && p < toks.length && toks[p].joined && isCapitalised(toks[p].text)) {
        j = p + 1;
        continue;
      }
      break;
    }
    // A model number right after a name ends it: "the Grechuk 3?" (not "Grechuk 3 awards").
    if (
      j < toks.length &&
      toks[j].joined &&
      /^\p{N}{1,4}$/u.test(toks[j].text) &&
      (j + 1 === toks.length || !toks[j + 1].joined)
    )
      j++;
    let from = i;
    // Leading sentence openers and question words are not part of a name ("What", "The", "Did").
    while (from < j && NON_NAME_WORDS.has(toks[from].text.toLowerCase())) from++;
    let title: string | undefined;
    while (from < j - 1 && PERSON_TITLES.has(toks[from].text.toLowerCase().replace(/\.$/, ""))) {
      title = toks[from].text.toLowerCase().replace(/\.$/, "");
      from++;
    }
    // A particle cannot open or close a name.
    let to = j;
    while (to > from && NAME_PARTICLES.has(toks[to - 1].text.toLowerCase()) && !isCapitalised(toks[to - 1].text)) to--;
    if (to > from) {
      const words = toks.slice(from, to).map((t) => t.text);
      const single = words.length === 1;
      const dropSingle = single && (NON_NAME_WORDS.has(words[0].toLowerCase()) || legalSuffixFamily(words[0]) >= 0);
      if (!dropSingle) {
        const start = toks[from].start;
        const end = toks[to - 1].end;
        spans.push({
          text: text.slice(start, end),
          start,
          end,
          words,
          quoted: false,
          sentenceStart: toks[from].sentenceStart || (from > 0 && from === i && toks[i].sentenceStart),
          before: toks.slice(Math.max(0, from - 6), from).map((t) => t.text.toLowerCase().replace(/\.$/, "")),
          after: toks.slice(to, to + 6).map((t) => t.text.toLowerCase()),
          title,
          suffixWords: suffixLength(words),
        });
      }
    }
    i = j;
  }
  return spans;
}

const QUOTED =
  /"([^"\n]{1,80})"|“([^”\n]{1,80})”|«\s?([^»\n]{1,80}?)\s?»|(?<![\p{L}\p{N}])'([^'\n]{1,60})'(?![\p{L}\p{N}])/gu;

/** Quoted names and titles: short quoted text whose content words are mostly capitalised. */
export function quotedSpans(text: string): Span[] {
  const out: Span[] = [];
  for (const m of text.matchAll(QUOTED)) {
    const inner = m[1] ?? m[2] ?? m[3] ?? m[4];
    if (!inner || /[?!]$/.test(inner.trim())) continue;
    const start = m.index! + m[0].indexOf(inner);
    const innerTrim = inner.trim();
    const startTrim = start + inner.indexOf(innerTrim);
    const words = tokenize(innerTrim).map((t) => t.text);
    if (!words.length || words.length > 10) continue;
    const content = words.filter((w) => !NAME_PARTICLES.has(w.toLowerCase()));
    const caps = content.filter(isCapitalised).length;
    if (!content.length || caps / content.length < 0.6) continue;
    const pre = tokenize(text.slice(0, m.index!));
    const post = tokenize(text.slice(m.index! + m[0].length));
    out.push({
      text: innerTrim,
      start: startTrim,
      end: startTrim + innerTrim.length,
      words,
      quoted: true,
      sentenceStart: false,
      before: pre.slice(-6).map((t) => t.text.toLowerCase()),
      after: post.slice(0, 6).map((t) => t.text.toLowerCase()),
      suffixWords: suffixLength(words),
    });
  }
  return out;
}
