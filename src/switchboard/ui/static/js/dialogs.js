// Modal dialogs on the native <dialog> element (focus kept inside, Escape closes, focus returns to what
// opened it), and `confirm`, the question asked before anything destructive.
import { html, useEffect, useId, useRef, useState } from "./lib.js";

/** A modal dialog, open while rendered; `onClose` is called when the user dismisses it. */
export function Dialog({ title, onClose, children, wide = false, className = "" }) {
  const ref = useRef(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    const opener = document.activeElement;
    if (dialog && !dialog.open) dialog.showModal();
    const first = dialog && (dialog.querySelector("[autofocus]") ||
      dialog.querySelector(".dialog-body input:not([type=hidden]):not([disabled]), .dialog-body select, .dialog-body textarea"));
    if (first) first.focus();
    return () => {
      if (dialog && dialog.open) dialog.close();
      if (opener && opener.isConnected && opener.focus) opener.focus();
    };
  }, []);
  const cancel = (event) => {
    event.preventDefault();
    onClose();
  };
  return html`
    <dialog ref=${ref} class=${`dialog ${wide ? "dialog-wide" : ""} ${className}`.trim()} aria-labelledby=${titleId}
      onCancel=${cancel}>
      <div class="dialog-head">
        <h2 id=${titleId}>${title}</h2>
        <button type="button" class="icon-button" aria-label="Close" onClick=${onClose}>×</button>
      </div>
      <div class="dialog-body">${children}</div>
    </dialog>`;
}

const asked = new Set();

/**
 * Ask before doing something: resolves with the chosen options ({} when there are none) when confirmed,
 * or null when cancelled. `options` are checkboxes ([{name, label, help}]), e.g. "Force stop".
 */
export function confirm({ title, message, confirmLabel = "Confirm", danger = false, options = [] }) {
  return new Promise((resolve) => {
    for (const listener of asked) listener({ title, message, confirmLabel, danger, options, resolve });
  });
}

function ConfirmDialog({ question, onDone }) {
  const [chosen, setChosen] = useState({});
  const answer = (value) => {
    question.resolve(value);
    onDone();
  };
  return html`
    <${Dialog} title=${question.title} onClose=${() => answer(null)} className="confirm-dialog">
      <form method="dialog" class="form" onSubmit=${(event) => { event.preventDefault(); answer(chosen); }}>
        ${question.message && html`<p class="confirm-message">${question.message}</p>`}
        ${question.options.map((option) => html`
          <label class="check" key=${option.name}>
            <input type="checkbox" name=${option.name} checked=${Boolean(chosen[option.name])}
              onChange=${(event) => setChosen({ ...chosen, [option.name]: event.currentTarget.checked })} />
            <span>${option.label}${option.help && html`<span class="field-help">${option.help}</span>`}</span>
          </label>`)}
        <div class="form-actions">
          <button type="button" onClick=${() => answer(null)}>Cancel</button>
          <button type="submit" class=${danger(question)} autofocus>${question.confirmLabel}</button>
        </div>
      </form>
    </${Dialog}>`;
}

function danger(question) {
  return question.danger ? "danger" : "primary";
}

/** Where `confirm` questions appear; rendered once by the shell. */
export function ConfirmHost() {
  const [question, setQuestion] = useState(null);
  useEffect(() => {
    asked.add(setQuestion);
    return () => asked.delete(setQuestion);
  }, []);
  return question ? html`<${ConfirmDialog} key=${question.title} question=${question} onDone=${() => setQuestion(null)} />` : null;
}
