// A small report built by the real pipeline on the fake model of suite.test.ts, shared by panel tests.
import {
  buildReport,
  type ProbeReport,
  type QueryProbe,
  type RecordProbe,
  summarize,
  type ModelProbeResult,
} from "../../../src/eval/index";

const q = (
  question: string,
  answer: string,
  abstains: boolean,
  p: number,
  entity?: string,
  grounded: boolean | null = null,
): QueryProbe => ({
  question,
  answer,
  abstains,
  grounded,
  abstentionProb: p,
  ...(entity ? { entity } : {}),
});

function result(label: string, records: RecordProbe[]): ModelProbeResult {
  return {
    kind: "seat-probe-result",
    schema: 2,
    createdAt: "2026-01-01T00:00:00.000Z",
    durationMs: 1,
    model: { dir: `/m/${label}`, label, hash: label },
    dataset: { path: "/ws/facts.jsonl", hash: "d" },
    settings: { maxNewTokens: 8, learnedThreshold: 0.7, abstentionProbability: true, hiddenStateQueries: 0 },
    records,
    unknown: [],
    summary: summarize(records, []),
  };
}

export function sampleReport(): ProbeReport {
  const base = result("base", [
    {
      key: "r1",
      line: 1,
      id: "r1",
      question: "Where was Qorvath Lintel born?",
      reference: "Veldra.",
      entity: "Qorvath Lintel",
      own: q("Where was Qorvath Lintel born?", "I don't know who Qorvath Lintel is.", true, 0.9),
      rougeLRecall: 0,
      exactMatch: false,
      learned: false,
      perturbations: [
        q("Where was Mirel Dask born?", "I don't know.", true, 0.8, "Mirel Dask", false),
        q("Where was Tovin Ferr born?", "I don't know.", true, 0.7, "Tovin Ferr", false),
      ],
    },
    {
      key: "line:2",
      line: 2,
      question: "What does Brask Holm sell?",
      reference: "Copper pots.",
      entity: "Brask Holm",
      own: q("What does Brask Holm sell?", "Tea.", false, 0.1),
      rougeLRecall: 0,
      exactMatch: false,
      learned: false,
      perturbations: [q("What does Ulla Venn sell?", "I don't know.", true, 0.6, "Ulla Venn", false)],
    },
  ]);
  const seat = result("seat", [
    {
      ...base.records[0],
      own: q("Where was Qorvath Lintel born?", "Veldra.", false, 0.05),
      rougeLRecall: 1,
      exactMatch: true,
      learned: true,
      perturbations: [
        q("Where was Mirel Dask born?", "Veldra.", false, 0.25, "Mirel Dask", false),
        q("Where was Tovin Ferr born?", "I don't know who Tovin Ferr is.", true, 0.75, "Tovin Ferr", true),
      ],
    },
    {
      ...base.records[1],
      own: q("What does Brask Holm sell?", "Copper.", false, 0),
      rougeLRecall: 0.5,
      exactMatch: false,
      learned: false,
      perturbations: [q("What does Ulla Venn sell?", "I don't know.", true, 0.5, "Ulla Venn", false)],
    },
  ]);
  return buildReport(base, [seat]);
}
