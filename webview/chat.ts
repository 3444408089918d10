// The probes panel's Chat tab: one question, the tuned and the base answer side by side as they stream
// in (from the host's chat child process), each with its P(abstain); Stop; and Add to dataset, which
// turns the question and an (editable) answer into a new record of the panel's dataset.
import type { ChatToken, HostMessage, WebviewMessage } from "../src/presentation/webview";
import { h, pct } from "./dom";
import * as ui from "./toolkit";

type Status = Extract<HostMessage, { type: "chat-status" }>;

interface ChatState {
  status?: Status;
  id?: string;
  question: string;
  answers: Partial<Record<ChatToken["who"], ChatToken>>;
  correction: string;
  added?: string;
}

export function createChat(post: (m: WebviewMessage) => void): { el: HTMLElement; onMessage(m: HostMessage): void } {
  const st: ChatState = { question: "", answers: {}, correction: "" };
  const el = h("div", { id: "chat-view", class: "chat" });
  let seq = 0;
  const running = () =>
    st.id !== undefined && (["tuned", "base"] as const).some((w) => st.answers[w] && !st.answers[w]!.done);

  const ask = () => {
    const q = (document.getElementById("chat-question") as HTMLTextAreaElement | null)?.value.trim() ?? "";
    if (!q) return;
    st.question = q;
    st.id = `c${++seq}`;
    st.answers = {
      tuned: { id: st.id, who: "tuned", text: "" },
      ...(st.status?.base ? { base: { id: st.id, who: "base", text: "" } } : {}),
    };
    st.correction = "";
    st.added = undefined;
    post({ type: "chat-ask", id: st.id, prompt: q });
    render();
  };

  const column = (who: ChatToken["who"], title: string, model?: string) => {
    const a = st.answers[who];
    const p = a?.pAbstain !== undefined ? `P(abstain) ${pct(a.pAbstain)}` : a && !a.done ? "generating…" : "";
    return h(
      "div",
      { class: "chat-answer", id: `chat-${who}` },
      h(
        "div",
        { class: "chat-title" },
        title,
        model ? h("span", { class: "muted", title: model }, ` ${model.split(/[\\/]/).pop()}`) : "",
      ),
      h("pre", { class: "chat-text", id: `chat-${who}-text` }, a?.error ? `error: ${a.error}` : (a?.text ?? "")),
      h("div", { class: "chat-meta", id: `chat-${who}-meta` }, p, a?.finish ? ` · ${a.finish}` : ""),
    );
  };

  function render(): void {
    const s = st.status;
    const question = h("textarea", {
      id: "chat-question",
      rows: "2",
      placeholder: "Ask the tuned and the base model the same question",
      "aria-label": "Question",
    });
    question.value = st.question;
    question.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey) {
        e.preventDefault();
        ask();
      }
    });
    const askBtn = ui.button("Ask", ask, { primary: true, id: "chat-ask" });
    const stopBtn = ui.button(
      "Stop",
      () => {
        if (st.id) post({ type: "chat-stop", id: st.id });
      },
      { id: "chat-stop" },
    );
    ui.setDisabled(askBtn, s?.status !== "ready" || running());
    ui.setDisabled(stopBtn, !running());
    const correction = h("textarea", { id: "chat-correction", rows: "2", "aria-label": "Answer to add" });
    correction.value = st.correction || st.answers.tuned?.text || "";
    correction.addEventListener("input", () => {
      st.correction = correction.value;
    });
    const addBtn = ui.button(
      "Add to dataset",
      () => post({ type: "chat-add", question: st.question, answer: correction.value.trim() }),
      { id: "chat-add", title: "Append {question, answer} to the panel's dataset (undoable)" },
    );
    ui.setDisabled(addBtn, !st.answers.tuned?.done || running());
    el.replaceChildren(
      h(
        "div",
        { class: "chat-status", id: "chat-status" },
        s ? s.message : "Open the panel on a dataset with a tuned run to chat.",
      ),
      h("div", { class: "chat-ask" }, question, askBtn, stopBtn),
      h(
        "div",
        { class: "chat-columns" },
        column("tuned", "Tuned", s?.tuned),
        ...(s?.base ? [column("base", "Base", s.base)] : []),
      ),
      h(
        "div",
        { class: "chat-add" },
        h("label", {}, "Answer for the dataset (edit to correct it):"),
        correction,
        addBtn,
        st.added ? h("span", { class: "muted", id: "chat-added" }, ` ${st.added}`) : "",
      ),
    );
  }

  function onMessage(m: HostMessage): void {
    if (m.type === "chat-status") {
      st.status = m;
      render();
      return;
    }
    if (m.type === "chat-added") {
      st.added = `added as line ${m.line} of ${m.dataset}`;
      render();
      return;
    }
    if (m.type !== "chat-token" || m.id !== st.id) return;
    const { type: _t, ...tok } = m;
    st.answers[m.who] = tok;
    // Only the streamed parts change while tokens arrive: the question box keeps focus and selection.
    const text = document.getElementById(`chat-${m.who}-text`);
    if (text && !m.done && !m.error) {
      text.textContent = m.text;
      return;
    }
    render();
  }

  render();
  return { el, onMessage };
}
