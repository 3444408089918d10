"""The job's training loop: the TypeScript trainer's loop (src/seat/trainer.ts, prepare.ts) on
torch.distributed. Each optimizer step takes the same examples in the same order as a local run;
they are split over the ranks, each rank's share in micro-batches of train.batchSize rows, every
loss term divided by the whole step's count (objective.py) and the gradients summed over ranks, so
the step is the local trainer's step up to float summation order."""
import copy
import json
import os
import time

import numpy as np
import torch
import torch.distributed as dist

from . import backend, dist as jdist
from .data import example_from_ids, kl_rows, kl_sequence, prefix_free, train_rows
from .objective import ewc_value, kl_sum, nll_sum
from .params import apply_method, base_view, merged_weights, no_decay
from .replay import make_detector, decode
from .rng import Prng, hash_seed, lr_at
from .runfolder import EventSink, checkpoint_name, export_model, write_checkpoint, write_json_atomic
from .st_io import read_tensors
from .teacher import distributed_greedy


def run(job_dir, out_dir, strategy="auto", zero=False, backend_name="auto", echo=None):
    dev = jdist.Dist()
    plan = json.load(open(os.path.join(job_dir, "plan.json")))
    cfg = plan["config"]
    c, parts = cfg["train"], plan["parts"]
    # train.epochs "auto": the cap train.maxEpochs, with the stopping rule on (as the local trainer).
    if c["epochs"] == "auto":
        c = {**c, "epochs": c["maxEpochs"]}
    model_dir = os.path.join(job_dir, plan["modelDir"])
    lead = dev.rank == 0
    if lead:
        os.makedirs(out_dir, exist_ok=True)
        if os.path.exists(os.path.join(out_dir, "config.json")):
            raise SystemExit(f"seat_job: {out_dir} already holds a run; choose another --out")
    dev.barrier()
    sink = EventSink(out_dir, lead, echo)
    try:
        return _run(dev, plan, cfg, c, parts, model_dir, job_dir, out_dir, sink, strategy, zero, backend_name)
    except Exception as e:
        sink.emit("error", message=f"{type(e).__name__}: {e}")
        raise
    finally:
        dev.close()


def _run(dev, plan, cfg, c, parts, model_dir, job_dir, out_dir, sink, strategy, zero, backend_name):
    auto = cfg["train"]["epochs"] == "auto"
    lead = dev.rank == 0
    if lead:
        stored = dict(cfg, model=os.path.abspath(model_dir), dataset=os.path.abspath(os.path.join(job_dir, plan["datasetFile"])), outDir=os.path.abspath(out_dir))
        write_json_atomic(os.path.join(out_dir, "config.json"), stored)
        # Not part of the run-folder format: where the job came from (seat import-run reads it).
        write_json_atomic(os.path.join(out_dir, "job.json"), {"origin": plan.get("origin"), "jobDir": os.path.abspath(job_dir), "world": dev.world})
    sink.emit("phase", phase="load", message=f"loading {model_dir} on {dev.world} process(es)")
    torch.manual_seed(0)
    # DDP or FSDP, decided before loading: FSDP flattens each layer's tensors into one float32 buffer
    # (one dtype per unit) and computes in bf16 through MixedPrecision; DDP on GPU keeps the frozen
    # weights of masked and LoRA methods in bf16 (their trainable values stay float32). CPU runs and
    # dense methods hold float32 weights, as the TypeScript trainer computes.
    if strategy == "fsdp":  # refuse before any work when this torch cannot run it
        ok, why = jdist.fsdp_supported()
        if not ok:
            raise SystemExit(f"seat_job: --strategy fsdp needs torch >= {jdist.FSDP_MIN[0]}.{jdist.FSDP_MIN[1]} ({why}); use --strategy ddp or a newer torch")
    strategy = jdist.choose_strategy(strategy, 4 * plan["trainableParams"], 2 * plan["totalParams"], dev)
    dtype = torch.bfloat16 if dev.cuda and strategy == "ddp" and parts["params"] != "dense" else torch.float32
    fwd_model, layer_cls, backend_used = backend.load(model_dir, dtype, backend_name)
    inner = fwd_model.inner
    pad, stops = plan["padId"], plan["stopIds"]
    examples = [dict(e) for e in plan["examples"]]
    fwd_model.to(dev.device)
    base_forward = fwd_model  # masked/LoRA methods read it through base_view(): the frozen base
    base_copy = None
    if parts["params"] == "dense" and parts["kl"]:
        base_copy = copy.deepcopy(fwd_model)  # full+kl: the frozen base for the teacher's logits
        for p in base_copy.parameters():
            p.requires_grad_(False)
    cache = {}

    def respond(prompts):
        missing = [p for p in dict.fromkeys(tuple(p) for p in prompts) if p not in cache]
        if missing:
            sink.emit("phase", phase="teacher", message=f"base model replies to {len(missing)} perturbed prompt(s)")
            spread = strategy != "fsdp"
            outs = distributed_greedy(base_copy if base_copy is not None else base_forward, [list(p) for p in missing], cfg["kl"]["maxResponseTokens"], stops, pad, dev.device,
                                      dev.rank if spread else 0, dev.world if spread else 1)
            for p, r in zip(missing, outs):
                cache[p] = r
            if lead:
                os.makedirs(os.path.join(out_dir, "cache"), exist_ok=True)
                write_json_atomic(os.path.join(out_dir, "cache", "teacher.json"), {",".join(map(str, k)): v for k, v in cache.items()})
        return [cache[tuple(p)] for p in prompts]

    if parts["replay"] and cfg["replay"]["ratio"] > 0:
        rp = plan["replay"]
        sink.emit("phase", phase="teacher", message="building abstention replay examples from the base model's replies")
        replies = respond([x["ids"] for x in rp["candidates"]])
        detect = make_detector(rp["phrases"])
        kept = 0
        for x, r in zip(rp["candidates"], replies):
            if detect(decode(rp["tokenText"], r)) is None:
                continue
            ex = example_from_ids(x["record"], x["ids"], r + rp["turnEnd"], c["maxSeqLen"])
            ex["line"] = x["line"]
            examples.append(ex)
            kept += 1
        if lead:  # what replay trains on, for inspection (and the tests' comparison with the local trainer)
            write_json_atomic(os.path.join(out_dir, "cache", "replay.json"), [{"record": e["record"], "ids": e["ids"], "targetMask": e["targetMask"]} for e in examples[len(plan["examples"]):]])
        sink.emit("log", level="warn" if kept == 0 else "info", message=f"replay: {kept} of {len(replies)} base replies to perturbed prompts abstain; {kept} abstention examples mixed into {len(plan['examples'])} training examples")

    B = c["batchSize"]
    T = max(2, *[len(e["ids"]) for e in examples])
    Tk = None
    if parts["kl"]:
        max_prompt = max(e["promptLength"] for e in examples)
        max_answer = max(len(e["ids"]) - e["promptLength"] for e in examples)
        cont = max_answer if cfg["kl"]["positions"] == "answer" else cfg["kl"]["maxResponseTokens"]
        Tk = min(c["maxSeqLen"], max_prompt + 16 + cont)
    kl_epoch = {}

    def kl_for_epoch(epoch):
        seed = hash_seed(c["seed"], epoch) if cfg["kl"]["resample"] == "epoch" else hash_seed(c["seed"], 0)
        if kl_epoch.get("seed") == seed:
            return kl_epoch["by"]
        facts = [e for e in examples if e["kind"] == "fact"]
        sets = plan["klPrompts"].get(str(seed))
        if sets is None and cfg["kl"]["input"] != "original":
            raise SystemExit(f"seat_job: plan.json has no perturbed prompts for epoch {epoch}; re-export the job")
        prompts = [[e["ids"][:e["promptLength"]]] if cfg["kl"]["input"] == "original" else sets.get(str(e["record"]), []) for e in facts]
        flat = [p for ps in prompts for p in ps]
        conts = [] if cfg["kl"]["positions"] == "answer" else respond(flat)
        by, j = {}, 0
        for e, ps in zip(facts, prompts):
            seqs = []
            for p in ps:
                cont = e["ids"][e["promptLength"]:] if cfg["kl"]["positions"] == "answer" else conts[j]
                j += 1
                seqs.append(kl_sequence(e["record"], p, cont, cfg["kl"]["includePrompt"], Tk))
            by[e["record"]] = seqs
        kl_epoch.update(seed=seed, by=by)
        return by

    # EWC's diagonal Fisher on the base weights, before any parameter is trainable-wrapped.
    fisher, ewc_base = None, None
    if parts["ewc"]:
        sink.emit("phase", phase="fisher", message="EWC: diagonal Fisher from " + ("the base model's replies to perturbed prompts" if cfg["ewc"]["fisher"] == "base-responses" else "the training data"))
        if cfg["ewc"]["fisher"] == "base-responses":
            ps = plan["ewc"]["prompts"]
            rs = respond([p["ids"] for p in ps])
            fex = [example_from_ids(p["record"], p["ids"], r, c["maxSeqLen"]) for p, r in zip(ps, rs)]
        else:
            fex = examples[:cfg["ewc"]["samples"]]
        fisher = _fisher(dev, inner, fwd_model, fex, pad, cfg)

    masks = {k: v for k, v in read_tensors(os.path.join(job_dir, "masks.safetensors")).items()} if parts["params"] == "masked" else {}
    lora = read_tensors(os.path.join(job_dir, "lora_init.safetensors")) if parts["params"] == "lora" else {}
    n_ex = len(examples)
    per_step = B * c["gradAccum"]
    steps_per_epoch = -(-n_ex // per_step)
    total = min(c["maxSteps"], c["epochs"] * steps_per_epoch) if c["maxSteps"] > 0 else c["epochs"] * steps_per_epoch
    if parts["kl"]:
        # Every reply the run will need, generated now, before the model is wrapped or changes.
        for e in range(-(-total // steps_per_epoch)):
            kl_for_epoch(e)
    trainable = apply_method(inner, plan, masks, lora)
    fwd_model.to(dev.device)
    if fisher is not None:
        ewc_base = {n: p.detach().float().clone() for n, p in trainable.items()}
    n_trainable = sum(p.numel() for p in trainable.values())
    n_total = plan["totalParams"]

    sink.emit("phase", phase="compile", message=f"wrapping the model ({backend_used})")
    paths = {n: _param_path(inner, p) for n, p in trainable.items()}
    wrapped, _ = jdist.wrap(fwd_model, strategy, dev, layer_cls)
    names = list(trainable)
    if strategy == "fsdp":  # FSDP (use_orig_params) re-creates the parameters: look them up again by name
        named = {k.replace("_fsdp_wrapped_module.", ""): p for k, p in wrapped.named_parameters()}
        trainable = {n: named["inner." + paths[n]] for n in names}
    o = cfg["optim"]
    groups = [
        {"params": [trainable[n] for n in names if not no_decay(n, trainable[n])], "weight_decay": o["weightDecay"]},
        {"params": [trainable[n] for n in names if no_decay(n, trainable[n])], "weight_decay": 0.0},
    ]
    groups = [g for g in groups if g["params"]]
    order = [id(p) for g in groups for p in g["params"]]
    kw = dict(lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"])
    if zero and dev.on and dev.world > 1:
        from torch.distributed.optim import ZeroRedundancyOptimizer
        optim = ZeroRedundancyOptimizer(groups[0]["params"], optimizer_class=torch.optim.AdamW, weight_decay=groups[0]["weight_decay"], **kw)
        for g in groups[1:]:
            optim.add_param_group(g)
    else:
        optim = torch.optim.AdamW(groups, **kw)

    data_rng = Prng(c["seed"], 1)
    st = {"version": 1, "step": 0, "epoch": 0, "batchInEpoch": 0, "dataOrder": data_rng.permutation(n_ex), "trainSeconds": 0.0, "tokens": 0,
          "rng": {"data": None, "perturb": Prng(c["seed"], 2).state(), "mask": plan["maskRngState"]}, "extra": {}}
    provider = f"torch-{strategy}{'+zero' if zero and dev.world > 1 else ''}-{'cuda' if dev.cuda else 'cpu'} x{dev.world} ({backend_used})"
    sink.emit("run-start", runDir=os.path.abspath(out_dir), method=cfg["method"], model=os.path.abspath(model_dir), dataset=os.path.abspath(os.path.join(job_dir, plan["datasetFile"])),
              totalSteps=total, stepsPerEpoch=steps_per_epoch, epochs=c["epochs"], trainableParams=n_trainable, totalParams=n_total, provider=provider)
    sink.emit("phase", phase="train", message=f"training {total} steps")

    lam = cfg["kl"]["lambda"]
    acc_window, recent = [], []
    last = {"loss": float("nan"), "ce": float("nan"), "kl": 0.0}
    early, last_eval = None, None
    evaluator = _Evaluator(plan, cfg, pad, dev) if cfg["eval"]["samples"] > 0 else None

    def forward_logits(ids, base=False):
        if base and base_copy is not None:
            return base_copy(ids)[0]
        if base:
            with base_view():
                return (wrapped if strategy == "fsdp" else fwd_model)(ids)[0]
        return wrapped(ids)[0]

    def save():
        st["rng"]["data"] = data_rng.state()
        st["extra"]["accWindow"] = list(acc_window)
        if strategy == "fsdp":
            # Full values gathered on every rank; AdamW's moments stay sharded and are not saved, so an
            # FSDP checkpoint holds the trained values (for export and inspection), not a resumable state.
            from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
            with FSDP.summon_full_params(wrapped, writeback=False):
                tensors = _snapshot(trainable, names, None, order, masks, False, strategy, wrapped)
            st["extra"]["moments"] = "not saved (FSDP)"
        else:
            tensors = _snapshot(trainable, names, optim, order, masks, zero and dev.world > 1, strategy, wrapped)
        if lead:
            write_checkpoint(os.path.join(out_dir, "checkpoints"), st, tensors, cfg["checkpoint"]["keep"])
            sink.emit("checkpoint", step=st["step"], path=os.path.join("checkpoints", checkpoint_name(st["step"])))

    while st["step"] < total:
        t0 = time.perf_counter()
        epoch = st["epoch"]
        idx = st["dataOrder"][st["batchInEpoch"] * per_step:(st["batchInEpoch"] + 1) * per_step]
        exs = [examples[i] for i in idx]
        by = kl_for_epoch(epoch) if parts["kl"] else {}
        seqs_of = [by.get(e["record"], []) if e["kind"] == "fact" else [] for e in exs]
        N = max(sum(_targets(e, T) for e in exs), 1)
        P = max(sum(sum(s["klMask"][:Tk]) for ss in seqs_of for s in ss), 1) if parts["kl"] else 1
        chunks = [list(a) for a in np.array_split(np.arange(len(exs)), dev.world)]
        mine = chunks[dev.rank]
        micro = [mine[i:i + B] for i in range(0, len(mine), B)] or [[]]
        sums = {"nll": 0.0, "kl": 0.0, "tokens": 0}
        oks = []
        for mi, rows in enumerate(micro):
            dummy = len(rows) == 0  # a rank with no rows this step still joins the gradient all-reduce
            sel = [exs[i] for i in (rows or [0])]
            ids, labels, toks, _ = train_rows(sel, T, pad)
            seqs = [s for i in (rows or [0]) for s in seqs_of[i]]
            L, kid, kmask = T, None, None
            if seqs:
                kid, kmask, ktok, _ = kl_rows(seqs, Tk, pad)
                L = max(T, Tk)
                toks += ktok
            allids = torch.full((ids.shape[0] + (kid.shape[0] if seqs else 0), L), pad, dtype=torch.int64)
            allids[:ids.shape[0], :T] = ids
            if seqs:
                allids[ids.shape[0]:, :Tk] = kid
            logits = forward_logits(allids.to(dev.device))  # (B + K, L, V): one tuned pass over both batches
            s_nll, ok = nll_sum(logits[:ids.shape[0], :T], labels.to(dev.device))
            loss = s_nll / N
            s_kl = torch.zeros((), device=dev.device)
            if seqs:
                with torch.no_grad():
                    bl = forward_logits(kid.to(dev.device), base=True)
                s_kl = kl_sum(bl, logits[ids.shape[0]:, :Tk], kmask.to(dev.device), cfg["kl"]["direction"])
                loss = loss + lam * s_kl / P
            if fisher is not None and mi == 0:
                e = ewc_value(trainable, ewc_base, fisher, cfg["ewc"]["lambda"])
                loss = loss + e / dev.world
            scale = 0.0 if dummy else float(dev.world)  # DDP averages over ranks; the step wants the sum
            sync = mi == len(micro) - 1
            ctx = wrapped.no_sync() if (not sync and hasattr(wrapped, "no_sync")) else _null()
            with ctx:
                (loss * scale).backward()
            if not dummy:
                sums["nll"] += float(s_nll.detach())
                sums["kl"] += float(s_kl.detach())
                sums["tokens"] += toks
                oks += [(rows[j], int(ok[j])) for j in range(len(rows))]
        tot = dev.all_sum([sums["nll"], sums["kl"], sums["tokens"]])
        ce, kl = tot[0] / N, (tot[1] / P if parts["kl"] else 0.0)
        ewc = float(ewc_value(trainable, ewc_base, fisher, cfg["ewc"]["lambda"]).detach()) if fisher is not None else None
        loss_v = ce + lam * kl * (1 if parts["kl"] else 0) + (ewc or 0.0)
        grad_norm = _clip(wrapped, strategy, [trainable[n] for n in names], o["clipNorm"])
        step_no = st["step"] + 1
        lr = lr_at(o, step_no, total)
        for g in optim.param_groups:
            g["lr"] = lr
        if not all(np.isfinite([ce, kl, loss_v, grad_norm])):
            bad = "ce" if not np.isfinite(ce) else "kl" if not np.isfinite(kl) else "total"
            sink.emit("error", message=f"non-finite {bad} term at step {step_no}; lower the learning rate or check the data", step=step_no, term=bad)
            raise SystemExit(3)
        optim.step()
        optim.zero_grad(set_to_none=True)
        gathered = sorted(x for part in dev.gather(oks) for x in part)
        for _, v in gathered:
            if v >= 0:
                acc_window.append(v)
        del acc_window[:max(0, len(acc_window) - n_ex)]
        st["step"] = step_no
        st["batchInEpoch"] += 1
        if st["batchInEpoch"] >= steps_per_epoch:
            st["epoch"] += 1
            st["batchInEpoch"] = 0
            st["dataOrder"] = data_rng.permutation(n_ex)
        secs = time.perf_counter() - t0
        st["trainSeconds"] += secs
        st["tokens"] += int(tot[2])
        recent.append((secs, tot[2]))
        del recent[:max(0, len(recent) - 20)]
        rs, rt = sum(r[0] for r in recent), sum(r[1] for r in recent)
        last = {"loss": loss_v, "ce": ce, "kl": kl}
        sink.emit("step", step=step_no, totalSteps=total, epoch=epoch + 1, loss=loss_v, ce=ce, kl=kl, lr=lr, gradNorm=grad_norm,
                  tokensPerSec=rt / rs if rs > 0 else 0.0, etaSeconds=(rs / len(recent)) * (total - step_no))
        end_of_epoch = st["batchInEpoch"] == 0
        ev = cfg["eval"]
        due = ev["samples"] > 0 and (st["step"] % ev["everySteps"] == 0 if ev["everySteps"] > 0 else end_of_epoch)
        if due or (st["step"] == total and ev["samples"] > 0):
            abst = evaluator.abstention(lambda ids: forward_logits(ids)) if evaluator else 0.0
            accu = sum(acc_window) / len(acc_window) if acc_window else 0.0
            last_eval = {"abstentionProb": abst, "answerAccuracy": accu, "step": st["step"]}
            sink.emit("quick-eval", step=st["step"], epoch=epoch + 1, abstentionProb=abst, answerAccuracy=accu,
                      abstentionSamples=evaluator.n if evaluator else 0, accuracySamples=len(acc_window))
            es = cfg["earlyStop"]
            if (es["enabled"] or auto) and st["step"] < total:
                if acc_window and accu >= es["accuracy"]:
                    early = {"reason": "facts-learned", "step": st["step"]}
                    sink.emit("early-stop", step=st["step"], reason="facts-learned", detail=f"answer accuracy {accu:.3f} >= {es['accuracy']}")
                elif evaluator and evaluator.n > 0 and abst < es["abstentionFloor"]:
                    early = {"reason": "abstention-floor", "step": st["step"]}
                    sink.emit("early-stop", step=st["step"], reason="abstention-floor", detail=f"held-out abstention probability {abst:.3f} < {es['abstentionFloor']}")
        if early:
            break
        every = cfg["checkpoint"]["everySteps"]
        if every > 0 and st["step"] % every == 0 and st["step"] < total:
            save()

    save()
    sink.emit("phase", phase="export", message="writing the merged model")
    changed = _gathered_merge(inner, plan, strategy, wrapped)
    if lead:
        export_model(model_dir, changed, os.path.join(out_dir, "model"))
        summary = {
            "method": cfg["method"], "steps": st["step"], "epochs": st["epoch"] + (1 if st["batchInEpoch"] > 0 else 0), "trainSeconds": st["trainSeconds"],
            "finalLoss": last["loss"], "finalCe": last["ce"], "finalKl": last["kl"],
            "meanTokensPerSec": st["tokens"] / st["trainSeconds"] if st["trainSeconds"] > 0 else 0.0,
            "meanStepSeconds": st["trainSeconds"] / st["step"] if st["step"] else 0.0,
            "trainableParams": n_trainable, "totalParams": n_total, "modelDir": "model",
        }
        if early:
            summary["earlyStop"] = early
        if auto:
            summary["epochsAuto"] = (
                {"outcome": early["reason"], "step": early["step"], "epoch": st["epoch"] + (1 if st["batchInEpoch"] > 0 else 0),
                 "detail": f"answer accuracy {last_eval['answerAccuracy']:.3f}, held-out abstention probability {last_eval['abstentionProb']:.3f}"}
                if early else
                {"outcome": "max-epochs", "step": st["step"], "epoch": st["epoch"] + (1 if st["batchInEpoch"] > 0 else 0),
                 "detail": (f"last quick eval: answer accuracy {last_eval['answerAccuracy']:.3f}, held-out abstention probability {last_eval['abstentionProb']:.3f}"
                            if last_eval else "no quick eval ran (eval.samples 0)")})
        if last_eval:
            summary["lastQuickEval"] = last_eval
        write_json_atomic(os.path.join(out_dir, "summary.json"), summary)
        sink.emit("done", summary=summary)
    dev.barrier()
    return 0


def _targets(ex, T):
    n = min(len(ex["ids"]), T)
    return sum(1 for t in range(n - 1) if ex["targetMask"][t + 1])


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def _param_path(module, param):
    for n, p in module.named_parameters():
        if p is param:
            return n
    raise KeyError("parameter not found")


def _clip(wrapped, strategy, params, clip):
    """Global gradient norm before clipping (float), clipping to `clip` when > 0 (torch semantics:
    scale min(1, clip / (norm + 1e-6)), as the TypeScript optimizer)."""
    if strategy == "fsdp":
        return float(wrapped.clip_grad_norm_(clip if clip > 0 else float("inf")))
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return 0.0
    if clip > 0:
        return float(torch.nn.utils.clip_grad_norm_(params, clip))
    return float(torch.sqrt(sum((g.float() ** 2).sum() for g in grads)))


def _snapshot(trainable, names, optim, order, masks, zero, strategy, wrapped):
    """Checkpoint tensors: state/<name>, state/<name>.m, state/<name>.v and mask/<name> (float32, I32)."""
    out = {}
    if zero:
        optim.consolidate_state_dict(to=0)
        if dist.get_rank() != 0:
            return {}
        sd = optim.state_dict()["state"]
        moments = {pid: sd.get(i, {}) for i, pid in enumerate(order)}
    elif optim is None:
        moments = {}
    else:
        moments = {id(p): optim.state.get(p, {}) for p in trainable.values()}
    for n in names:
        p = trainable[n]
        out[f"state/{n}"] = p.detach().float().cpu().reshape(p.shape).clone()
        m = moments.get(id(p), {})
        zeros = torch.zeros_like(out[f"state/{n}"])
        out[f"state/{n}.m"] = m["exp_avg"].float().cpu().clone() if "exp_avg" in m else zeros
        out[f"state/{n}.v"] = m["exp_avg_sq"].float().cpu().clone() if "exp_avg_sq" in m else zeros.clone()
    for k, idx in masks.items():
        out[f"mask/{k}"] = idx.to(torch.int32)
    return out


def _gathered_merge(inner, plan, strategy, wrapped):
    if strategy == "fsdp":
        from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
        with FSDP.summon_full_params(wrapped, writeback=False, rank0_only=False):
            return merged_weights(inner, plan)
    return merged_weights(inner, plan)


def _fisher(dev, inner, fwd_model, examples, pad, cfg):
    """Sum of squared per-example gradients of the answer CE (mean over its targets) on the base
    weights, divided by the example count (src/seat/fisher.ts); examples spread over the ranks."""
    from .params import module_matches
    params = {n: p for n, p in inner.named_parameters() if any(module_matches(n, pat) for pat in cfg["full"]["modules"])}
    for p in params.values():
        p.requires_grad_(True)
    acc = {n: torch.zeros_like(p, dtype=torch.float32) for n, p in params.items()}
    T = max(2, *[len(e["ids"]) for e in examples]) if examples else 2
    for i in range(dev.rank, len(examples), dev.world):
        ids, labels, _, targets = train_rows([examples[i]], T, pad)
        logits = fwd_model(ids.to(dev.device))[0]
        s, _ = nll_sum(logits, labels.to(dev.device))
        loss = s / max(targets, 1)
        grads = torch.autograd.grad(loss, list(params.values()), allow_unused=True)
        for (n, _), g in zip(params.items(), grads):
            if g is not None:
                acc[n] += g.float() ** 2
    for n in acc:
        if dev.on and dev.world > 1:
            dist.all_reduce(acc[n])
        acc[n] /= max(1, len(examples))
    for p in params.values():
        p.requires_grad_(False)
    return acc


class _Evaluator:
    """Quick eval's held-out abstention probability: for each prompt, P(reply starts with an
    abstention opening) = sum over prefix-free openings of exp(log p(opening | prompt))."""

    def __init__(self, plan, cfg, pad, dev):
        ev = plan["eval"]
        self.prompts = ev["prompts"][:cfg["eval"]["samples"]] if ev else []
        self.openings = prefix_free(ev["openings"]) if ev else []
        self.n = len(self.prompts)
        self.pad, self.dev = pad, dev

    @torch.no_grad()
    def abstention(self, forward):
        if not self.prompts or not self.openings:
            return 0.0
        rows = [(p, o) for p in self.prompts for o in self.openings]
        Ts = max(len(p) for p in self.prompts) + max(len(o) for o in self.openings)
        lps = []
        for at in range(0, len(rows), 64):
            part = rows[at:at + 64]
            ids = torch.full((len(part), Ts), self.pad, dtype=torch.int64)
            tgt = torch.zeros((len(part), Ts), dtype=torch.int64)
            msk = torch.zeros((len(part), Ts))
            for r, (p, o) in enumerate(part):
                seq = p + o
                ids[r, :len(seq)] = torch.tensor(seq)
                for j in range(len(p) - 1, len(seq) - 1):
                    tgt[r, j] = seq[j + 1]
                    msk[r, j] = 1
            lp = torch.log_softmax(forward(ids.to(self.dev.device)).float(), -1)
            picked = lp.gather(-1, tgt.to(self.dev.device)[..., None])[..., 0]
            lps += (picked * msk.to(self.dev.device)).sum(-1).tolist()
        k = len(self.openings)
        tot = 0.0
        for i in range(self.n):
            tot += min(1.0, max(0.0, float(torch.logsumexp(torch.tensor(lps[i * k:(i + 1) * k], dtype=torch.float64), 0).exp())))
        return tot / self.n
