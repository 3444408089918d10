// Rendering a chat template within a budget. A template comes from the model folder, so it is untrusted
// data: @huggingface/jinja already keeps it away from the process and the file system, but rendering is
// synchronous and unbounded, so `{% for i in range(10000) %}{% for j in range(10000) %}` (or doubling a
// list in a loop) would freeze training, or the editor, with no way out. The interpreter evaluates every
// node through its public `evaluate` method, which a subclass can meter: each node is a step, each
// list a node yields costs its length (a for loop re-evaluates its iterable every time it runs, so
// nested loops pay for every pass), and lists and strings past a size limit stop the render. range()
// is replaced by one that refuses huge ranges before allocating them.
import { Environment, Interpreter, type Template } from "@huggingface/jinja";

/** Limits of one render; the defaults are far above what real chat templates need (see the tests). */
export interface RenderBudget {
  /** Evaluated nodes plus the lengths of the lists they produce. */
  maxSteps: number;
  /** Longest list a template may build (range() included). */
  maxItems: number;
  /** Longest string a template may build (the rendered text included). */
  maxChars: number;
  /** Wall-clock limit, a backstop for work the step count does not see. */
  maxMillis: number;
}

/** Budget for rendering `inputChars` characters of messages: generous, and growing with the input. */
export function defaultRenderBudget(inputChars: number, messages: number): RenderBudget {
  return {
    // A real template (Qwen3's) takes ~80 steps a message; a loop pass costs several microseconds, so
    // this bounds a runaway template to about a second.
    maxSteps: 100_000 + 2_000 * messages,
    maxItems: 100_000,
    maxChars: 4_000_000 + 16 * inputChars,
    maxMillis: 5_000,
  };
}

/** The template ran past its budget: the message says which limit and suggests the likely cause. */
export class TemplateBudgetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TemplateBudgetError";
  }
}

type Node = Parameters<Interpreter["evaluate"]>[0];
type Value = ReturnType<Interpreter["evaluate"]>;

class MeteredInterpreter extends Interpreter {
  private steps = 0;
  private calls = 0;
  private readonly deadline: number;

  constructor(
    env: Environment,
    private readonly budget: RenderBudget,
  ) {
    super(env);
    this.deadline = performance.now() + budget.maxMillis;
  }

  charge(n: number): void {
    this.steps += n;
    if (this.steps > this.budget.maxSteps) {
      throw new TemplateBudgetError(
        `rendering took more than ${this.budget.maxSteps} steps (loops too long or too deeply nested for a chat template)`,
      );
    }
  }

  override evaluate(node: Node, env: Environment): Value {
    this.charge(1);
    // Nested loops with empty bodies reach evaluate only once per inner pass, so the clock is read often.
    if ((++this.calls & 15) === 0 && performance.now() > this.deadline) {
      throw new TemplateBudgetError(`rendering took longer than ${this.budget.maxMillis} ms`);
    }
    const v = super.evaluate(node, env);
    const inner: unknown = v.value;
    if (Array.isArray(inner)) {
      if (inner.length > this.budget.maxItems)
        throw new TemplateBudgetError(
          `the template built a list of ${inner.length} items (limit ${this.budget.maxItems})`,
        );
      // Every element may become a loop pass, which evaluate does not see when the body is empty.
      this.charge(inner.length);
    } else if (typeof inner === "string" && inner.length > this.budget.maxChars) {
      throw new TemplateBudgetError(
        `the template built a text of ${inner.length} characters (limit ${this.budget.maxChars})`,
      );
    }
    return v;
  }
}

function strftime(date: Date, format: string): string {
  const pad2 = (n: number) => String(n).padStart(2, "0");
  const month = (style: "long" | "short") => new Intl.DateTimeFormat(undefined, { month: style }).format(date);
  return format.replace(/%[YmdbBHM%]/g, (t) => {
    switch (t) {
      case "%Y":
        return String(date.getFullYear());
      case "%m":
        return pad2(date.getMonth() + 1);
      case "%d":
        return pad2(date.getDate());
      case "%b":
        return month("short");
      case "%B":
        return month("long");
      case "%H":
        return pad2(date.getHours());
      case "%M":
        return pad2(date.getMinutes());
      default:
        return "%";
    }
  });
}

/**
 * Renders a parsed template like Template.render (the same globals: true/false/none in both spellings,
 * raise_exception, range, strftime_now), under `budget`. Throws TemplateBudgetError past the budget and
 * the interpreter's own errors for template mistakes.
 */
export function renderWithBudget(template: Template, items: Record<string, unknown>, budget: RenderBudget): string {
  const env = new Environment();
  const range = (start: number, stop?: number, step = 1): number[] => {
    const [a, b] = stop === undefined ? [0, start] : [start, stop];
    if (![a, b, step].every(Number.isFinite)) throw new Error("range() arguments must be finite numbers");
    if (step === 0) throw new Error("range() step must not be zero");
    const count = Math.max(0, Math.ceil((b - a) / step));
    // Refused before allocating: range(10**9) would exhaust memory before any check saw the list.
    if (count > budget.maxItems) throw new TemplateBudgetError(`range() of ${count} items (limit ${budget.maxItems})`);
    const out: number[] = [];
    for (let i = 0; i < count; i++) out.push(a + i * step);
    return out;
  };
  const globals: Record<string, unknown> = {
    false: false,
    true: true,
    none: null,
    False: false,
    True: true,
    None: null,
    raise_exception: (message: string) => {
      throw new Error(message);
    },
    range,
    strftime_now: (format: string) => strftime(new Date(), format),
  };
  for (const [k, v] of Object.entries(globals)) env.set(k, v);
  for (const [k, v] of Object.entries(items)) env.set(k, v);
  const result: unknown = new MeteredInterpreter(env, budget).run(template.parsed).value;
  return typeof result === "string" ? result : String(result);
}
