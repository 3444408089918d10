// The training objective, composed from engine ops (seat-method.md, "our reconstruction"):
//   L = CE(y | x; theta)                                  answer tokens only (labels -100 elsewhere)
//     + lambda * maskedMean_t KL(p_base(.|x~, r<t) || p_theta(.|x~, r<t))   forward; reverse swaps args
//     + ewcLambda / 2 * sum_i F_i (theta_i - theta0_i)^2  EWC (Kirkpatrick et al. 2017), diagonal Fisher
// Each term is also a graph output so a non-finite loss can be traced to the term that produced it.
// Under gradient accumulation each micro-batch weights its terms by its share of the optimizer step's
// batch (`shares`, see lossShares in data.ts), so that the summed gradients are the whole batch's.
import { type Tensor, add, sub, mul, crossEntropy, kl, logSoftmax, maskedMean, sumAll } from "../engine/index";

export interface ObjectiveInputs {
  /** Tuned logits on the training batch [B, T, V] and int32 (or int64) labels [B, T]. */
  logits: Tensor;
  labels: Tensor;
  /** KL part: base and tuned logits on the perturbed batch [K, Tk, V] and the float mask [K, Tk]. */
  klTerm?: { baseLogits: Tensor; tunedLogits: Tensor; mask: Tensor; lambda: number; direction: "forward" | "reverse" };
  /** EWC part: per trainable tensor, its current value, the base value and the Fisher diagonal. */
  ewcTerm?: { lambda: number; params: { value: Tensor; base: Tensor; fisher: Tensor }[] };
  /** Scalar weights of the terms in `loss` (the term outputs stay unweighted); absent = 1. */
  shares?: { ce: Tensor; kl?: Tensor; ewc?: Tensor };
}

export interface ObjectiveOutputs {
  loss: Tensor;
  ce: Tensor;
  kl?: Tensor;
  ewc?: Tensor;
}

export const TERM_OUTPUTS = { ce: "term_ce", kl: "term_kl", ewc: "term_ewc" } as const;

export function buildObjective(x: ObjectiveInputs): ObjectiveOutputs {
  const ce = crossEntropy(x.logits, x.labels).loss;
  const weighted = (t: Tensor, share: Tensor | undefined) => (share ? mul(t, share) : t);
  let loss = weighted(ce, x.shares?.ce);
  const out: ObjectiveOutputs = { loss, ce };
  if (x.klTerm) {
    const { baseLogits, tunedLogits, mask, lambda, direction } = x.klTerm;
    const lpBase = logSoftmax(baseLogits, -1);
    const lpTuned = logSoftmax(tunedLogits, -1);
    const perPos = direction === "forward" ? kl(lpBase, lpTuned) : kl(lpTuned, lpBase); // (K, Tk)
    const klMean = maskedMean(perPos, mask);
    out.kl = klMean;
    loss = add(loss, weighted(mul(klMean, lambda), x.shares?.kl));
  }
  if (x.ewcTerm && x.ewcTerm.params.length) {
    const parts = x.ewcTerm.params.map(({ value, base, fisher }) => {
      const d = sub(value, base);
      return sumAll(mul(fisher, mul(d, d)));
    });
    const ewc = mul(
      parts.reduce((a, b) => add(a, b)),
      x.ewcTerm.lambda / 2,
    );
    out.ewc = ewc;
    loss = add(loss, weighted(ewc, x.shares?.ewc));
  }
  out.loss = loss;
  const g = ce.graph;
  g.output(TERM_OUTPUTS.ce, ce);
  if (out.kl) g.output(TERM_OUTPUTS.kl, out.kl);
  if (out.ewc) g.output(TERM_OUTPUTS.ewc, out.ewc);
  return out;
}
