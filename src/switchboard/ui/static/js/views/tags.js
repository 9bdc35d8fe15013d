// Tags (CloudStack's createTags / deleteTags): key=value labels on instances, volumes, networks, templates
// and projects, shown as chips; added and removed in place where the session may.
import { can } from "../api.js";
import { run } from "../jobs.js";
import { html, useState } from "../lib.js";
import { Card } from "../page.js";

/** The tag chips of `tags` ([{key, value}]) with an add form; `name` names the resource for the job list. */
export function TagEditor({ resourceType, resourceId, tags = [], name, changed }) {
  const [key, setKey] = useState("");
  const [value, setValue] = useState("");
  const [problem, setProblem] = useState("");
  const [busy, setBusy] = useState(false);
  const change = async (command, tag) => {
    setProblem("");
    setBusy(true);
    try {
      await run(command, { resourceids: [resourceId], resourcetype: resourceType, tags: [tag] },
        { label: `${command === "createTags" ? "Tag" : "Untag"} ${name}: ${tag.key}` });
      if (command === "createTags") { setKey(""); setValue(""); }
    } catch (error) {
      setProblem(error.message);
    }
    setBusy(false);
    changed();
  };
  const add = (event) => {
    event.preventDefault();
    if (!key.trim()) { setProblem("A tag needs a key."); return; }
    if (tags.some((tag) => tag.key === key.trim())) { setProblem(`The tag ${key.trim()} is there already: remove it first to change its value.`); return; }
    change("createTags", { key: key.trim(), value: value.trim() });
  };
  return html`
    <div class="tag-editor">
      ${tags.length ? html`<ul class="tag-list" aria-label="Tags">${tags.map((tag) => html`<li key=${tag.key} data-tag=${tag.key}>
        <span class="tag tag-chip"><span class="tag-key">${tag.key}</span>${tag.value !== "" && html`<span class="tag-value">${tag.value}</span>`}</span>
        ${can("deleteTags") && html`<button type="button" class="icon-button" aria-label=${`Remove tag ${tag.key}`} disabled=${busy}
          onClick=${() => change("deleteTags", { key: tag.key, value: tag.value })}>×</button>`}</li>`)}</ul>`
        : html`<p class="muted">No tags.</p>`}
      ${can("createTags") && html`<form class="tag-form" onSubmit=${add} aria-label="Add a tag">
        <input aria-label="Tag key" placeholder="key" value=${key} autocomplete="off" onInput=${(event) => setKey(event.currentTarget.value)} />
        <input aria-label="Tag value" placeholder="value" value=${value} autocomplete="off" onInput=${(event) => setValue(event.currentTarget.value)} />
        <button type="submit" disabled=${busy}>Add tag</button></form>`}
      ${problem && html`<p class="field-error" role="alert">${problem}</p>`}
    </div>`;
}

/** TagEditor in a card, for object pages. */
export function TagsCard(props) {
  if (!(props.tags || []).length && !can("createTags")) return null;
  return html`<${Card} title="Tags" className="tags-card"><${TagEditor} ...${props} /></${Card}>`;
}

/** A table cell's read-only chips. */
export function TagChips({ tags }) {
  if (!(tags || []).length) return html`<span class="muted">—</span>`;
  return html`<span class="tag-list inline">${tags.map((tag) => html`<span class="tag tag-chip" key=${tag.key}>
    <span class="tag-key">${tag.key}</span>${tag.value !== "" && html`<span class="tag-value">${tag.value}</span>`}</span>`)}</span>`;
}
