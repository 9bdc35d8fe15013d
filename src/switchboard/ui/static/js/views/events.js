// Events: what happened, by whom, newest first; filter by level, type and dates; archive or delete.
import { can, listAll } from "../api.js";
import { confirm } from "../dialogs.js";
import { DateText, StateBadge } from "../format.js";
import { run } from "../jobs.js";
import { html, useEffect, useState } from "../lib.js";
import { Page } from "../page.js";
import { ListView, RowButton, accountColumn } from "../table.js";

export default function Events() {
  const [types, setTypes] = useState([]);
  useEffect(() => {
    if (can("listEventTypes")) listAll("listEventTypes").then((found) => setTypes(found.map((type) => type.name).sort()), () => {});
  }, []);
  const act = async (command, event, changed) => {
    const verb = command === "archiveEvents" ? "Archive" : "Delete";
    if (command === "deleteEvents" && !await confirm({ title: "Delete this event?", confirmLabel: "Delete", danger: true,
      message: event.description })) return;
    try { await run(command, { ids: [event.id] }, { label: `${verb} event ${event.type}` }); } catch (_error) { /* listed */ }
    changed();
  };
  return html`
    <${Page} title="Events">
      <${ListView} command="listEvents" label="Events" sort=${{ key: "created", dir: "desc" }}
        filters=${[
          { param: "level", label: "Level", options: ["INFO", "WARN", "ERROR"] },
          { param: "type", label: "Type", options: types },
        ]}
        empty="No events yet."
        columns=${[
          { key: "level", label: "Level", render: (event) => html`<${StateBadge} state=${event.level} />` },
          { key: "type", label: "Type", className: "code-cell" },
          { key: "description", label: "Description", primary: true, className: "text-cell",
            render: (event) => html`<span class="wrap">${event.description}</span>` },
          { key: "state", label: "State", phone: false, laptop: false },
          { key: "username", label: "By", laptop: false },
          accountColumn(),
          { key: "created", label: "When", className: "nowrap", render: (event) => html`<${DateText} value=${event.created} />` },
        ]}
        actions=${(can("archiveEvents") || can("deleteEvents")) && ((event, changed) => html`
          ${can("archiveEvents") && html`<${RowButton} label="Archive" name=${`event ${event.type} ${event.id.slice(0, 8)}`}
            onClick=${() => act("archiveEvents", event, changed)} />`}
          ${can("deleteEvents") && html`<${RowButton} label="Delete" name=${`event ${event.type} ${event.id.slice(0, 8)}`} kind="danger-outline"
            onClick=${() => act("deleteEvents", event, changed)} />`}`)} />
    </${Page}>`;
}
