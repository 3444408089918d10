// The synthetic world: a seeded, deterministic set of known entities with facts, plus unknown entities
// and fictitious concepts the base model must abstain on. Same seed and sizes -> the same world, byte
// for byte, on every platform.
import { generateNames, NameGuard } from "../entities/index";
import { NameFactory, type Restyle, type WorldKind, WORLD_KINDS } from "./names";
import { Prng } from "../util/rng";
import { CATEGORIES, INDUSTRIES, PROFESSIONS, RELATIONS, type Relation } from "./relations";

export interface WorldSizes {
  /** Known entities per kind (the base model learns all their facts). */
  known: Record<WorldKind, number>;
  /** Countries and rivers the places are drawn from. */
  countries: number;
  rivers: number;
  /** Unknown entities used to teach abstention (one question each in the corpus). */
  unknownTrain: number;
  /** Never-seen entities for the abstention gate (never in the corpus). */
  unknownHeldout: number;
  /**
   * Unknown entities drawn from the perturbation generator (src/entities) as look-alikes of the world's
   * names: the stand-ins SEAT and the probes will use must be names the base model treats as unknown.
   */
  lookalikeTrain: number;
  lookalikeHeldout: number;
  /** Fictitious concepts taught / held out. */
  conceptsTrain: number;
  conceptsHeldout: number;
  /**
   * Copies of the known-fact questions per epoch. Many distinct unknown names seen a few times each
   * teach a general "copy the name into the abstention" skill (measured: with 900 names seen 35 times
   * each, the model memorised them and garbled new names in 2 of 3 abstentions); the known facts are
   * repeated instead so they still get enough presentations.
   */
  knownRepeats: number;
}

/**
 * Small enough that a ~1M-parameter model memorises every fact in minutes on two cores, large enough
 * that abstention must be learned as "this name was never taught", not as a list of a few strings.
 */
export const DEFAULT_SIZES: WorldSizes = {
  known: { person: 40, company: 20, place: 16, product: 16 },
  countries: 6,
  rivers: 10,
  unknownTrain: 3000,
  unknownHeldout: 200,
  lookalikeTrain: 1000,
  lookalikeHeldout: 100,
  conceptsTrain: 800,
  conceptsHeldout: 100,
  knownRepeats: 4,
};

export const DEFAULT_WORLD_SEED = 20250618;

export interface WorldEntity {
  name: string;
  kind: WorldKind;
}

export interface Fact {
  subject: string;
  kind: WorldKind;
  relation: string;
  value: string;
}

export interface World {
  seed: number;
  sizes: WorldSizes;
  known: WorldEntity[];
  facts: Fact[];
  unknownTrain: WorldEntity[];
  unknownHeldout: WorldEntity[];
  conceptsTrain: string[];
  conceptsHeldout: string[];
  /** Every word used by any name above (example datasets must avoid them). */
  nameFactory: NameFactory;
}

function drawUnknown(names: NameFactory, pickKind: () => WorldKind, n: number): WorldEntity[] {
  const out: WorldEntity[] = [];
  for (let i = 0; i < n; i++) {
    const kind = pickKind();
    out.push({ name: names.ofKind(kind), kind });
  }
  return out;
}

/** Share of all entity names (known or not) written in the perturbation generator's style. */
export const LOOKALIKE_STYLE_SHARE = 0.3;

/** The perturbation generator (src/entities) as a name style: a look-alike of a freshly drawn name. */
export function entityStyle(seed: number): Restyle {
  return (name, kind, attempt) => generateNames(name, kind, { k: 1, seed: seed + attempt })[0];
}

export function generateWorld(seed: number = DEFAULT_WORLD_SEED, sizes: WorldSizes = DEFAULT_SIZES): World {
  const names = new NameFactory(Prng.named(seed, "names"), { fn: entityStyle(seed), share: LOOKALIKE_STYLE_SHARE });
  const rng = Prng.named(seed, "facts");
  const known: WorldEntity[] = [];
  for (const kind of WORLD_KINDS) {
    for (let i = 0; i < sizes.known[kind]; i++) known.push({ name: names.ofKind(kind), kind });
  }
  const countries = Array.from({ length: sizes.countries }, () => names.word());
  const rivers = Array.from({ length: sizes.rivers }, () => names.word());
  const byKind = (k: WorldKind) => known.filter((e) => e.kind === k).map((e) => e.name);
  const places = byKind("place");
  const companies = byKind("company");

  // Contracts pair companies up (a, b) so that "partner" is symmetric and every company has one.
  const partner = new Map<string, string>();
  const shuffled = rng.shuffle(companies);
  for (let i = 0; i + 1 < shuffled.length; i += 2) {
    partner.set(shuffled[i], shuffled[i + 1]);
    partner.set(shuffled[i + 1], shuffled[i]);
  }

  const valueFor = (rel: Relation, subject: string): string | undefined => {
    switch (rel.value) {
      case "place":
        return rng.pick(places);
      case "company":
        return rel.id === "partner" ? partner.get(subject) : rng.pick(companies);
      case "country":
        return rng.pick(countries);
      case "river":
        return rng.pick(rivers);
      case "profession":
        return rng.pick(PROFESSIONS);
      case "industry":
        return rng.pick(INDUSTRIES);
      case "category":
        return rng.pick(CATEGORIES);
      case "year": {
        const [lo, hi] = rel.years ?? [1900, 2020];
        return String(lo + rng.int(hi - lo + 1));
      }
    }
  };

  const facts: Fact[] = [];
  for (const e of known) {
    for (const rel of RELATIONS) {
      if (rel.kind !== e.kind) continue;
      const value = valueFor(rel, e.name);
      if (value !== undefined) facts.push({ subject: e.name, kind: e.kind, relation: rel.id, value });
    }
  }

  // Unknown entities follow the known kind mix, so no kind is "mostly unknown".
  const kindRng = Prng.named(seed, "unknown-kinds");
  const totalKnown = known.length;
  const pickKind = (): WorldKind => {
    let r = kindRng.int(totalKnown);
    for (const k of WORLD_KINDS) {
      if (r < sizes.known[k]) return k;
      r -= sizes.known[k];
    }
    return "person";
  };
  const unknownTrain = drawUnknown(names, pickKind, sizes.unknownTrain);
  const unknownHeldout = drawUnknown(names, pickKind, sizes.unknownHeldout);
  const conceptsTrain = Array.from({ length: sizes.conceptsTrain }, () => names.concept());
  const conceptsHeldout = Array.from({ length: sizes.conceptsHeldout }, () => names.concept());

  // Look-alikes: training ones imitate known and unknown names alike (so "looks like a known name" is
  // no cue), held-out ones imitate known names only (the hardest case: a neighbour of a real entity).
  const guard = new NameGuard([...known, ...unknownTrain, ...unknownHeldout].map((e) => e.name));
  const lookRng = Prng.named(seed, "lookalikes");
  const lookalikes = (pool: readonly WorldEntity[], n: number, salt: number): WorldEntity[] => {
    const out: WorldEntity[] = [];
    for (let i = 0; out.length < n && i < n * 20; i++) {
      const src = lookRng.pick(pool);
      const [name] = generateNames(src.name, src.kind, { k: 1, seed: salt + i, guard });
      if (!name || !names.isFresh(name)) continue;
      guard.add(name);
      names.reserve(name);
      out.push({ name, kind: src.kind });
    }
    return out;
  };
  unknownTrain.push(...lookalikes([...known, ...unknownTrain], sizes.lookalikeTrain, seed));
  unknownHeldout.push(...lookalikes(known, sizes.lookalikeHeldout, seed + 7919));
  return {
    seed,
    sizes,
    known,
    facts,
    unknownTrain,
    unknownHeldout,
    conceptsTrain,
    conceptsHeldout,
    nameFactory: names,
  };
}
