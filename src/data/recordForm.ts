// The record editor's model, without an editor: a record line as a form (fields per format, chat turns,
// SEAT entities and perturbations), the problems placed beside the fields they concern, and each form
// change turned into the record's new line text through the lossless path edits (pathEdit.ts), so that
// every byte the change does not touch stays as written.
import type {
  FieldPath,
  FieldProblem,
  FormField,
  RecordOp,
  RecordTurns,
  StoredPerturbation,
} from "../protocol/recordView";
import { detectFormat } from "./formats";
import { scanJson } from "./jsonScan";
import { insertItem, moveItem, nodeAtPath, removeItem, setAtPath } from "./pathEdit";
import { addPerturbationsToLine, RecordEditError, setSeatEntities } from "./edit";
import type { RecordFormat } from "./types";

type Obj = Record<string, unknown>;

/** The fields each flat format shows, in order (chat and ShareGPT show turns instead). */
const FLAT_FIELDS: Record<Exclude<RecordFormat, "chat" | "sharegpt">, string[]> = {
  qa: ["question", "answer"],
  alpaca: ["instruction", "input", "output"],
  completion: ["prompt", "completion"],
};

const TURN_KEYS = {
  chat: { arrayKey: "messages", roleKey: "role", contentKey: "content", roles: ["system", "user", "assistant"] },
  sharegpt: { arrayKey: "conversations", roleKey: "from", contentKey: "value", roles: ["system", "human", "gpt"] },
} as const;

export interface ProblemInput {
  column: number;
  endColumn: number;
  severity: FieldProblem["severity"];
  code: string;
  message: string;
}

export interface RecordFormModel {
  format: RecordFormat | null;
  fields: FormField[];
  turns: RecordTurns | null;
  storedEntities: string[];
  perturbations: StoredPerturbation[];
  /** Problems inside "seat" that concern no single perturbation. */
  seatProblems: FieldProblem[];
  /** Problems that belong to no field. */
  problems: FieldProblem[];
}

const str = (v: unknown) => (typeof v === "string" ? v : v === undefined ? "" : JSON.stringify(v));

/** The form of one record line; `problems` are the line's diagnostics (1-based columns). */
export function recordForm(text: string, problems: readonly ProblemInput[] = []): RecordFormModel {
  const out: RecordFormModel = {
    format: null,
    fields: [],
    turns: null,
    storedEntities: [],
    perturbations: [],
    seatProblems: [],
    problems: [],
  };
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    out.problems = problems.map(toFieldProblem);
    return out;
  }
  const scanned = scanJson(text, true, Infinity);
  if (typeof o !== "object" || o === null || Array.isArray(o) || !scanned.ok) {
    out.problems = problems.map(toFieldProblem);
    return out;
  }
  const rec = o as Obj;
  const root = scanned.root;
  const format = detectFormat(rec);
  out.format = format;
  // Spans of everything a problem can be placed beside, most specific last wins.
  const targets: Array<{ span: [number, number]; list: FieldProblem[]; label?: string }> = [];
  // A member's span starts at its key (a duplicate-key warning sits there).
  const spanOf = (path: FieldPath): [number, number] | undefined => {
    const n = nodeAtPath(root, path);
    if (!n) return undefined;
    const last = path[path.length - 1];
    const members = typeof last === "string" ? nodeAtPath(root, path.slice(0, -1))?.members : undefined;
    const m = members ? [...members].reverse().find((x) => x.key === last) : undefined;
    return [m ? m.keyStart : n.start, n.end];
  };
  const addField = (key: string, path: FieldPath = [key]) => {
    const v = nodeAtPath(root, path)
      ? path.reduce<unknown>((x, k) => (x as Obj | undefined)?.[k as string], rec)
      : undefined;
    const f: FormField = { path, label: key, value: str(v), present: v !== undefined, problems: [] };
    out.fields.push(f);
    const s = spanOf(path);
    if (s) targets.push({ span: s, list: f.problems });
    targets.push({ span: [-1, -1], list: f.problems, label: key });
  };
  if (format === "chat" || format === "sharegpt") {
    const k = TURN_KEYS[format];
    const list = Array.isArray(rec[k.arrayKey]) ? (rec[k.arrayKey] as unknown[]) : [];
    out.turns = {
      arrayKey: k.arrayKey,
      roleKey: k.roleKey,
      contentKey: k.contentKey,
      roles: [...k.roles],
      items: list.map((t, i) => {
        const turn = typeof t === "object" && t !== null ? (t as Obj) : {};
        const item = { role: str(turn[k.roleKey]), content: str(turn[k.contentKey]), problems: [] as FieldProblem[] };
        const s = spanOf([k.arrayKey, i]);
        if (s) targets.push({ span: s, list: item.problems });
        return item;
      }),
    };
    if (format === "sharegpt" && rec.system !== undefined) addField("system");
  } else if (format) {
    for (const key of FLAT_FIELDS[format]) addField(key);
    if (rec.system !== undefined) addField("system");
  }
  const seat = typeof rec.seat === "object" && rec.seat !== null && !Array.isArray(rec.seat) ? (rec.seat as Obj) : {};
  if (Array.isArray(seat.entities))
    out.storedEntities = seat.entities.map((e) => (typeof e === "string" ? e : str((e as Obj | null)?.name)));
  if (Array.isArray(seat.perturbations)) {
    out.perturbations = seat.perturbations.map((p) => {
      if (typeof p === "string") return { entity: out.storedEntities[0] ?? "", replacement: p };
      // Not an entry at all (a number, a list): shown as written, beside its problem.
      if (typeof p !== "object" || p === null || Array.isArray(p))
        return { entity: "", replacement: JSON.stringify(p) };
      const q = p as Obj;
      return {
        entity: str(q.entity),
        replacement: str(q.replacement),
        ...(typeof q.kind === "string" ? { kind: q.kind } : {}),
        ...(typeof q.abstention === "number" ? { abstention: q.abstention } : {}),
      };
    });
    out.perturbations.forEach((p, i) => {
      const s = spanOf(["seat", "perturbations", i]);
      if (s) targets.push({ span: s, list: (p.problems = []) });
    });
  }
  const seatSpan = spanOf(["seat"]);
  if (seatSpan) targets.push({ span: seatSpan, list: out.seatProblems });
  for (const p of problems) {
    const fp = toFieldProblem(p);
    const at = p.column - 1;
    // A missing member is reported at its parent: place it beside the field it names.
    const named =
      p.code === "missing-field" ? targets.find((t) => t.label && p.message === `missing "${t.label}"`) : undefined;
    let best: (typeof targets)[number] | undefined = named;
    if (!best) {
      for (const t of targets) {
        if (t.span[0] <= at && at < t.span[1] && (!best || t.span[1] - t.span[0] <= best.span[1] - best.span[0]))
          best = t;
      }
    }
    (best ? best.list : out.problems).push(fp);
  }
  for (const p of out.perturbations) if (!p.problems?.length) delete p.problems;
  return out;
}

function toFieldProblem(p: ProblemInput): FieldProblem {
  return { severity: p.severity, message: p.message, column: p.column };
}

/** A new, empty record of the format (the form shows its fields to fill in). */
export function emptyRecord(format: RecordFormat | null): string {
  switch (format) {
    case "chat":
      return '{"messages":[{"role":"user","content":""},{"role":"assistant","content":""}]}';
    case "sharegpt":
      return '{"conversations":[{"from":"human","value":""},{"from":"gpt","value":""}]}';
    case "alpaca":
      return '{"instruction":"","input":"","output":""}';
    case "completion":
      return '{"prompt":"","completion":""}';
    default:
      return '{"question":"","answer":""}';
  }
}

/** The record's new text after one form change; RecordEditError when the record cannot take it. */
export function applyRecordOp(text: string, op: RecordOp): string {
  const o = JSON.parse(text) as Obj;
  const format = detectFormat(o);
  const turnKeys = format === "chat" || format === "sharegpt" ? TURN_KEYS[format] : undefined;
  switch (op.kind) {
    case "set":
      return setAtPath(text, op.path, op.value);
    case "add-turn": {
      if (!turnKeys) throw new RecordEditError("only chat and ShareGPT records have turns", text, 0);
      const list = Array.isArray(o[turnKeys.arrayKey]) ? (o[turnKeys.arrayKey] as Obj[]) : [];
      // The next turn alternates with the last one (user after assistant, and so on).
      const last = list.length ? String(list[list.length - 1]?.[turnKeys.roleKey] ?? "") : "";
      const role = last === turnKeys.roles[1] ? turnKeys.roles[2] : turnKeys.roles[1];
      return insertItem(text, [turnKeys.arrayKey], list.length, {
        [turnKeys.roleKey]: role,
        [turnKeys.contentKey]: "",
      });
    }
    case "remove-turn":
      if (!turnKeys) throw new RecordEditError("only chat and ShareGPT records have turns", text, 0);
      return removeItem(text, [turnKeys.arrayKey], op.index);
    case "move-turn":
      if (!turnKeys) throw new RecordEditError("only chat and ShareGPT records have turns", text, 0);
      return moveItem(text, [turnKeys.arrayKey], op.from, op.to);
    case "add-perturbation": {
      // The one lossless perturbation writer (the CodeLens uses it too): entries in the record's style.
      const entry = {
        entity: op.entity,
        replacement: op.replacement,
        ...(op.kindOf ? { kind: op.kindOf } : {}),
        ...(op.abstention !== undefined ? { abstention: op.abstention } : {}),
      };
      const r = addPerturbationsToLine(text, [entry]);
      if (!r.added.length)
        throw new RecordEditError(`"${op.replacement}" is already a perturbation of this record`, text, 0);
      return r.text;
    }
    case "remove-perturbation":
      return removeItem(text, ["seat", "perturbations"], op.index);
    case "set-entities":
      return setSeatEntities(text, op.names);
  }
}
