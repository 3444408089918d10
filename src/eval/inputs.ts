// Turns datasets (src/data records) into probe inputs: training records with their neighbour
// (entity-perturbed) questions, and dataset-level unknown queries (records marked seat.split "unknown",
// kind from seat.probe).
import type { DatasetRecord } from "../data/index";
import type { ProbeRecordInput, UnknownQueryInput } from "./types";

/** The perturbed question of a perturbation: stored, else the question with every mention replaced. */
function perturbedQuestion(question: string, entity: string, replacement: string): string {
  return entity && question.includes(entity) ? question.split(entity).join(replacement) : question;
}

function unknownKind(r: DatasetRecord): UnknownQueryInput["kind"] {
  return r.seat.probe === "fictitious-concept" ? "fictitious-concept" : "held-out";
}

export function isUnknownQuery(r: DatasetRecord): boolean {
  return r.seat.split === "unknown";
}

export function toProbeRecord(r: DatasetRecord): ProbeRecordInput {
  const perturbations: ProbeRecordInput["perturbations"] = [];
  for (const p of r.perturbations) {
    const question = p.question ?? perturbedQuestion(r.question, p.entity, p.replacement);
    // A replacement that does not occur in the question would just re-ask the trained fact.
    if (question === r.question) continue;
    perturbations.push({ question, entity: p.replacement });
  }
  const out: ProbeRecordInput = { line: r.line, question: r.question, reference: r.answer, perturbations };
  if (r.entities[0] !== undefined) out.entity = r.entities[0];
  const id = r.raw.id;
  if (typeof id === "string" && id !== "") out.id = id;
  else if (typeof id === "number") out.id = String(id);
  return out;
}

export function toUnknownQuery(r: DatasetRecord): UnknownQueryInput {
  const q: UnknownQueryInput = { question: r.question, kind: unknownKind(r), line: r.line };
  if (r.entities[0] !== undefined) q.entity = r.entities[0];
  return q;
}

/**
 * Splits a dataset into training records and unknown queries. `unknownRecords` (from a separate
 * --unknown file) all count as unknown queries whatever their split says.
 */
export function probeInputs(
  records: readonly DatasetRecord[],
  unknownRecords: readonly DatasetRecord[] = [],
): { records: ProbeRecordInput[]; unknown: UnknownQueryInput[] } {
  return {
    records: records.filter((r) => !isUnknownQuery(r)).map(toProbeRecord),
    unknown: [...records.filter(isUnknownQuery), ...unknownRecords].map(toUnknownQuery),
  };
}
