// One wording, everywhere a single query's verdict is shown (HTML report, panel hover, webview chips):
// whether it abstains and, if so, whether it names the queried entity, misnames it or names nothing.
import type { QueryProbe } from "../eval/types";

export function abstentionLabel(q: Pick<QueryProbe, "abstains" | "grounded" | "naming">): string {
  if (!q.abstains) return "answers";
  if (q.naming === "entity" || (q.naming === undefined && q.grounded === true)) return "abstains, names the entity";
  if (q.naming === "misnamed") return "abstains, but misnames the entity (not grounded)";
  if (q.naming === "generic" || q.grounded === false) return "abstains, names nothing (not grounded)";
  return "abstains";
}

/** The short mark of a chip: ✓ grounded, ✓~ misnamed, ✓? names nothing (or not judged), ✗ answers. */
export function abstentionMark(q: Pick<QueryProbe, "abstains" | "grounded" | "naming">): string {
  if (!q.abstains) return "✗";
  if (q.grounded) return "✓";
  return q.naming === "misnamed" ? "✓~" : "✓?";
}
