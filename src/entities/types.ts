// Shared shapes of the entities area: what detection finds, what the generator makes, and what a
// record's `seat.perturbations` holds. Kept structural so that any record type with these fields
// (src/data's normalized records included) can be passed in without conversion.

export type EntityKind = "person" | "company" | "place" | "product" | "work" | "other";
export const ENTITY_KINDS: readonly EntityKind[] = ["person", "company", "place", "product", "work", "other"];

export interface ChatMessage {
  role: string;
  content: string;
}

/** An entity as a record's `seat.entities` may list it: a bare name or a name with a kind. */
export type EntityRef = string | { name: string; kind?: string };

/**
 * One entry of a record's `seat.perturbations`, in the shape src/data defines (SeatPerturbation): a
 * fictitious stand-in `replacement` for `entity` (the subject as written in the prompt). A bare string is
 * accepted when reading and means "replaces the record's first entity". `question` is the perturbed
 * prompt (optional: derivable by substitution); `abstention` is the base model's abstention probability
 * on the perturbed prompt, present when the candidate was verified.
 */
export interface PerturbationEntry {
  entity: string;
  replacement: string;
  kind?: string;
  question?: string;
  abstention?: number;
}
export type PerturbationRef = string | PerturbationEntry;

/**
 * The fields of a dataset record this area reads. `question` is the user prompt of a QA-style record
 * (or the last user turn of a chat); `messages` is the full chat when the record is a conversation.
 */
export interface EntityRecordView {
  question?: string;
  answer?: string;
  messages?: readonly ChatMessage[];
  seat?: {
    entities?: readonly EntityRef[];
    perturbations?: readonly PerturbationRef[];
  };
}

/** Where detection found the entity: listed by the user in `seat.entities`, or found in the text. */
export type EntitySource = "seat" | "detected";

export interface DetectedEntity {
  /** The name as written in the text (the exact span the substitution replaces). */
  name: string;
  kind: EntityKind;
  /** Ranking score; higher is a more likely subject. Comparable within one record only. */
  score: number;
  source: EntitySource;
  /** True when the name occurs in the prompt side (question / user turns), i.e. perturbing it changes x. */
  inPrompt: boolean;
  /** Short human-readable reasons for the kind and score, for hovers and `--json` output. */
  evidence: string[];
}

/** A candidate perturbation of one record: the entity, its stand-in, and the perturbed prompt. */
export interface PerturbationCandidate {
  entity: string;
  kind: EntityKind;
  replacement: string;
  question?: string;
  messages?: ChatMessage[];
}

export interface VerifiedCandidate extends PerturbationCandidate {
  /** Base model's abstention probability on the perturbed prompt (0..1). */
  abstention: number;
}

/** Suggestions for one record (one line of a JSONL file). */
export interface RecordSuggestion {
  /** 0-based index of the record in the dataset (for JSONL: the record's ordinal, not the line). */
  index: number;
  /** The subject entity chosen for perturbation, if any was found. */
  entity?: DetectedEntity;
  /** Other entities found in the record, ranked (for the user to pick instead). */
  alternatives: DetectedEntity[];
  candidates: PerturbationCandidate[];
  /** Why there are no candidates, when there are none. */
  reason?: string;
}
