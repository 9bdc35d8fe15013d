// Alerts: what the server wants an operator to know (an extension not ready, a host down...).
import { can } from "../api.js";
import { DateText } from "../format.js";
import { run } from "../jobs.js";
import { html } from "../lib.js";
import { Page } from "../page.js";
import { ListView, RowButton } from "../table.js";

export default function Alerts() {
  const act = async (command, alert, changed) => {
    try {
      await run(command, { ids: [alert.id] }, { label: `${command === "archiveAlerts" ? "Archive" : "Delete"} alert ${alert.name}` });
    } catch (_error) { /* listed */ }
    changed();
  };
  return html`
    <${Page} title="Alerts">
      <${ListView} command="listAlerts" label="Alerts" sort=${{ key: "sent", dir: "desc" }} empty="No alerts: all is well."
        columns=${[
          { key: "name", label: "Alert", className: "nowrap", render: (alert) => html`<code>${alert.name}</code>` },
          { key: "description", label: "Description", primary: true, className: "text-cell", render: (alert) => html`<span class="wrap">${alert.description}</span>` },
          { key: "sent", label: "When", className: "nowrap", render: (alert) => html`<${DateText} value=${alert.sent} />` },
        ]}
        actions=${(can("archiveAlerts") || can("deleteAlerts")) && ((alert, changed) => html`
          ${can("archiveAlerts") && html`<${RowButton} label="Archive" name=${alert.description} onClick=${() => act("archiveAlerts", alert, changed)} />`}
          ${can("deleteAlerts") && html`<${RowButton} label="Delete" name=${alert.description} kind="danger-outline"
            onClick=${() => act("deleteAlerts", alert, changed)} />`}`)} />
    </${Page}>`;
}
