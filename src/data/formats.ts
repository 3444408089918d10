// Record formats: detection from a record's keys, the checks each format needs, and the normalized
// view (question, answer, messages). Checks return issues addressed by JSON path; the caller turns
// paths into line/column only when there is something to report (see locate.ts), so clean records
// never pay for span scanning.
import type { ChatMessage, ProblemCode, RecordFormat, Role, SeatMeta, SeatPerturbation, Severity } from "./types";

export type JsonPath = Array<string | number>;

export interface Issue {
  /** Path of the offending value; a missing member is addressed by its parent's path. */
  path: JsonPath;
  severity: Severity;
  code: ProblemCode;
  message: string;
  /** Replacement JSON value for the value at `path`, when the fix is unambiguous. */
  fix?: { title: string; value: unknown };
  /** Address the member's key rather than its value (e.g. an unknown role alias). */
  onKey?: boolean;
}

export interface Analysis {
  format: RecordFormat | null;
  question: string;
  answer: string;
  /** System prompt of a flat record (QA/Alpaca `system`), "" when none. */
  system: string;
  /** Turns of chat/ShareGPT records; null for flat formats (see messagesOf), so validation of flat records allocates none. */
  turns: ChatMessage[] | null;
  seat: SeatMeta;
  entities: string[];
  perturbations: SeatPerturbation[];
  issues: Issue[];
  /** Turns of a chat/ShareGPT record left out of `turns` (no known role, not an object). */
  droppedTurns: number;
}

/** The record as a conversation ending with the answer. */
export function messagesOf(a: Analysis): ChatMessage[] {
  if (a.turns) return a.turns;
  if (!a.format) return [];
  const m: ChatMessage[] = [
    { role: "user", content: a.question },
    { role: "assistant", content: a.answer },
  ];
  if (a.system) m.unshift({ role: "system", content: a.system });
  return m;
}

/** Shared stand-in for an absent `seat` (records handed out get their own object). */
export const NO_SEAT: SeatMeta = Object.freeze({}) as SeatMeta;

type Obj = Record<string, unknown>;

/** Which format a record is in, from its keys; null when none fits. */
export function detectFormat(o: Obj): RecordFormat | null {
  if ("messages" in o) return "chat";
  if ("conversations" in o) return "sharegpt";
  if ("question" in o || "answer" in o) return "qa";
  if ("instruction" in o || "output" in o) return "alpaca";
  if ("prompt" in o || "completion" in o) return "completion";
  return null;
}

/** Role spellings other tools use that map unambiguously onto ours. */
export const ROLE_ALIASES: Record<string, Role> = {
  system: "system",
  user: "user",
  human: "user",
  assistant: "assistant",
  gpt: "assistant",
  bot: "assistant",
  model: "assistant",
  chatgpt: "assistant",
};

const SHAREGPT_SPELLING: Record<Role, string> = { system: "system", user: "human", assistant: "gpt" };

const typeName = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);

function checkString(o: Obj, key: string, allowEmpty: boolean, issues: Issue[], base: JsonPath = []): string {
  const v = o[key];
  if (v === undefined) {
    if (!allowEmpty) issues.push({ path: base, severity: "error", code: "missing-field", message: `missing "${key}"` });
    return "";
  }
  if (typeof v !== "string") {
    issues.push({
      path: [...base, key],
      severity: "error",
      code: "wrong-type",
      message: `"${key}" must be a string, found ${typeName(v)}`,
    });
    return "";
  }
  // the common clean case allocates nothing: look at the ends before trimming
  const n = v.length;
  if (n > 0 && !isSpace(v.charCodeAt(0)) && !isSpace(v.charCodeAt(n - 1))) return v;
  checkText(v, [...base, key], `"${key}"`, allowEmpty, issues);
  return v;
}

/** The characters String.prototype.trim removes that occur in practice. */
function isSpace(c: number): boolean {
  return (
    c === 32 ||
    (c >= 9 && c <= 13) ||
    c === 0xa0 ||
    c === 0x3000 ||
    c === 0xfeff ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x1680 ||
    c === 0x202f ||
    c === 0x205f
  );
}

function checkText(v: string, path: JsonPath, label: string, allowEmpty: boolean, issues: Issue[]) {
  const t = v.trim();
  if (t.length === 0) {
    if (!allowEmpty || v.length > 0)
      issues.push({
        path,
        severity: allowEmpty ? "warning" : "error",
        code: "empty-field",
        message: `${label} is empty${v.length ? " (only whitespace)" : ""}`,
      });
  } else if (t.length !== v.length) {
    issues.push({
      path,
      severity: "info",
      code: "whitespace",
      message: `${label} has leading or trailing whitespace`,
      fix: { title: `Trim whitespace from ${label}`, value: t },
    });
  }
}

/** Checks a list of turns already mapped to roles: optional system first, then user/assistant alternating, ending with assistant. */
function checkTurns(roles: Array<Role | null>, arrayKey: string, roleKey: string, issues: Issue[]) {
  let expect: Role = "user";
  let i = 0;
  if (roles[0] === "system") i = 1;
  for (; i < roles.length; i++) {
    const r = roles[i];
    if (r === null) return; // already reported as unknown role
    if (r === "system") {
      issues.push({
        path: [arrayKey, i, roleKey],
        severity: "error",
        code: "non-alternating",
        message: `a system turn is only allowed first (turn ${i + 1})`,
      });
      return;
    }
    if (r !== expect) {
      issues.push({
        path: [arrayKey, i, roleKey],
        severity: "error",
        code: "non-alternating",
        message: `turn ${i + 1} is "${r}" but "${expect}" was expected: turns must alternate user/assistant`,
      });
      return;
    }
    expect = expect === "user" ? "assistant" : "user";
  }
  const last = roles[roles.length - 1];
  if (roles.length > 0 && last !== "assistant") {
    issues.push({
      path: [arrayKey, roles.length - 1],
      severity: "error",
      code: "no-answer-turn",
      message: "the conversation must end with an assistant turn (the answer to learn)",
    });
  }
}

function analyzeTurns(o: Obj, fmt: "chat" | "sharegpt", issues: Issue[], a: Analysis): ChatMessage[] {
  const arrayKey = fmt === "chat" ? "messages" : "conversations";
  const roleKey = fmt === "chat" ? "role" : "from";
  const contentKey = fmt === "chat" ? "content" : "value";
  const list = o[arrayKey];
  if (!Array.isArray(list)) {
    issues.push({
      path: [arrayKey],
      severity: "error",
      code: "wrong-type",
      message: `"${arrayKey}" must be an array of {${roleKey}, ${contentKey}} objects, found ${typeName(list)}`,
    });
    return [];
  }
  if (list.length === 0) {
    issues.push({ path: [arrayKey], severity: "error", code: "empty-field", message: `"${arrayKey}" is empty` });
    return [];
  }
  const messages: ChatMessage[] = [];
  const roles: Array<Role | null> = [];
  for (let i = 0; i < list.length; i++) {
    const m = list[i];
    if (typeof m !== "object" || m === null || Array.isArray(m)) {
      issues.push({
        path: [arrayKey, i],
        severity: "error",
        code: "wrong-type",
        message: `turn ${i + 1} must be an object {${roleKey}, ${contentKey}}, found ${typeName(m)}`,
      });
      roles.push(null);
      a.droppedTurns++;
      continue;
    }
    const mo = m as Obj;
    const rv = mo[roleKey];
    let role: Role | null = null;
    if (rv === undefined)
      issues.push({
        path: [arrayKey, i],
        severity: "error",
        code: "missing-field",
        message: `turn ${i + 1} has no "${roleKey}"`,
      });
    else if (typeof rv !== "string")
      issues.push({
        path: [arrayKey, i, roleKey],
        severity: "error",
        code: "wrong-type",
        message: `"${roleKey}" must be a string, found ${typeName(rv)}`,
      });
    else {
      const canonical =
        fmt === "chat"
          ? rv === "system" || rv === "user" || rv === "assistant"
            ? rv
            : null
          : (ROLE_ALIASES[rv] ?? null);
      if (canonical) role = canonical;
      else {
        const alias = ROLE_ALIASES[rv.toLowerCase().trim()];
        const known = fmt === "chat" ? "system, user, assistant" : "system, human, gpt";
        const spelled = alias && (fmt === "chat" ? alias : SHAREGPT_SPELLING[alias]);
        issues.push({
          path: [arrayKey, i, roleKey],
          severity: "error",
          code: "unknown-role",
          message: `unknown role "${rv}" (expected ${known})`,
          ...(spelled ? { fix: { title: `Change role "${rv}" to "${spelled}"`, value: spelled } } : {}),
        });
      }
    }
    roles.push(role);
    const content = checkString(mo, contentKey, false, issues, [arrayKey, i]);
    if (role) messages.push({ role, content });
    else a.droppedTurns++;
  }
  checkTurns(roles, arrayKey, roleKey, issues);
  return messages;
}

function analyzeSeat(o: Obj, issues: Issue[], out: Analysis): void {
  const s = o.seat;
  if (s === undefined) return;
  if (typeof s !== "object" || s === null || Array.isArray(s)) {
    issues.push({
      path: ["seat"],
      severity: "error",
      code: "invalid-seat",
      message: `"seat" must be an object {entities, perturbations, ...}, found ${typeName(s)}`,
    });
    return;
  }
  out.seat = s as SeatMeta;
  const ents = (s as Obj).entities;
  if (ents !== undefined) {
    if (!Array.isArray(ents))
      issues.push({
        path: ["seat", "entities"],
        severity: "error",
        code: "invalid-seat",
        message: `"seat.entities" must be an array of names, found ${typeName(ents)}`,
      });
    else {
      out.entities = [];
      ents.forEach((e, i) => {
        const name =
          typeof e === "string"
            ? e
            : typeof e === "object" && e !== null && !Array.isArray(e)
              ? (e as Obj).name
              : undefined;
        if (typeof name !== "string" || name.trim() === "")
          issues.push({
            path: ["seat", "entities", i],
            severity: "error",
            code: "invalid-seat",
            message: `entity ${i + 1} must be a non-empty name or {name, kind}`,
          });
        else out.entities.push(name);
      });
    }
  }
  const perts = (s as Obj).perturbations;
  if (perts !== undefined) {
    if (!Array.isArray(perts))
      issues.push({
        path: ["seat", "perturbations"],
        severity: "error",
        code: "invalid-seat",
        message: `"seat.perturbations" must be an array, found ${typeName(perts)}`,
      });
    else {
      out.perturbations = [];
      perts.forEach((p, i) => {
        const path = ["seat", "perturbations", i];
        if (typeof p === "string") {
          if (out.entities.length === 0)
            issues.push({
              path,
              severity: "error",
              code: "invalid-seat",
              message: `perturbation "${p}" is a bare name but "seat.entities" is empty: say which entity it replaces ({entity, replacement})`,
            });
          else out.perturbations.push({ entity: out.entities[0], replacement: p });
        } else if (
          typeof p === "object" &&
          p !== null &&
          !Array.isArray(p) &&
          typeof (p as Obj).entity === "string" &&
          typeof (p as Obj).replacement === "string"
        ) {
          out.perturbations.push(p as SeatPerturbation);
        } else {
          issues.push({
            path,
            severity: "error",
            code: "invalid-seat",
            message: `perturbation ${i + 1} must be a replacement name or {entity: string, replacement: string, ...}`,
          });
        }
      });
    }
  }
}

const NONE: readonly never[] = Object.freeze([]);

/** Detects the format of a parsed record, checks it, and builds the normalized view. */
export function analyzeRecord(o: Obj): Analysis {
  const issues: Issue[] = [];
  const format = detectFormat(o);
  const a: Analysis = {
    format,
    question: "",
    answer: "",
    system: "",
    turns: null,
    seat: NO_SEAT,
    entities: NONE as never,
    perturbations: NONE as never,
    issues,
    droppedTurns: 0,
  };
  switch (format) {
    case "qa":
      a.question = checkString(o, "question", false, issues);
      a.answer = checkString(o, "answer", false, issues);
      if (typeof o.system === "string") a.system = o.system;
      break;
    case "completion": {
      // prompt/completion text is raw continuation: a leading space in the completion is the
      // convention, not a mistake, so only presence, type and emptiness are checked
      const before = issues.length;
      a.question = checkString(o, "prompt", false, issues);
      a.answer = checkString(o, "completion", false, issues);
      for (let i = issues.length - 1; i >= before; i--) if (issues[i].code === "whitespace") issues.splice(i, 1);
      break;
    }
    case "alpaca": {
      const instruction = checkString(o, "instruction", false, issues);
      const input = checkString(o, "input", true, issues);
      a.answer = checkString(o, "output", false, issues);
      a.question = input.trim() ? `${instruction}\n\n${input}` : instruction;
      if (typeof o.system === "string") a.system = o.system;
      break;
    }
    case "chat":
    case "sharegpt": {
      const messages = analyzeTurns(o, format, issues, a);
      if (format === "sharegpt" && typeof o.system === "string" && o.system.length && messages[0]?.role !== "system")
        messages.unshift({ role: "system", content: o.system });
      a.turns = messages;
      const last = messages[messages.length - 1];
      if (last?.role === "assistant") a.answer = last.content;
      for (let i = messages.length - 1; i >= 0; i--) {
        if (messages[i].role === "user") {
          a.question = messages[i].content;
          break;
        }
      }
      break;
    }
    default:
      issues.push({
        path: [],
        severity: "error",
        code: "unknown-format",
        message:
          "record matches no known format: expected question/answer, messages, instruction/output, conversations or prompt/completion",
      });
  }
  if (o.seat !== undefined) analyzeSeat(o, issues, a);
  return a;
}
