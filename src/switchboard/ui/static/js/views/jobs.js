// Jobs: the async jobs of the session's account (all accounts for admins), newest first.
import { DateText, StateBadge } from "../format.js";
import { html } from "../lib.js";
import { Page } from "../page.js";
import { ListView, accountColumn } from "../table.js";

const STATUS = { 0: "Pending", 1: "Succeeded", 2: "Failed", 3: "Cancelled" };

function outcome(job) {
  const result = job.jobresult || {};
  if (job.jobstatus === 2) return result.errortext || "";
  const action = result.customactionresult;
  if (action && action.result) return action.result.message;
  const [object] = Object.values(result);
  return object && typeof object === "object" ? object.name || object.displayname || "" : "";
}

export default function Jobs() {
  return html`
    <${Page} title="Jobs">
      <${ListView} command="listAsyncJobs" label="Jobs" search=${false} sort=${{ key: "created", dir: "desc" }} rowKey=${(job) => job.jobid}
        busy=${(job) => job.jobstatus === 0} empty="No jobs yet."
        columns=${[
          { key: "cmd", label: "Command", primary: true, render: (job) => html`<span class="row-title">${job.cmd}</span>` },
          { key: "jobstatus", label: "Status", render: (job) => html`<${StateBadge} state=${job.jobstatus === 0 ? "pending" : job.jobstatus === 1 ? "succeeded" : "failed"} label=${STATUS[job.jobstatus]} />` },
          { key: "outcome", label: "Outcome", sortable: false, className: "text-cell", render: (job) => html`<span class="wrap">${outcome(job)}</span>` },
          { key: "jobinstancetype", label: "On", phone: false, render: (job) => job.jobinstancetype === "VirtualMachine" && job.jobinstanceid
            ? html`<a href=${`/instances/${job.jobinstanceid}`}>Instance</a>` : job.jobinstancetype || "" },
          accountColumn(),
          { key: "created", label: "Started", className: "nowrap", render: (job) => html`<${DateText} value=${job.created} />` },
          { key: "completed", label: "Finished", phone: false, className: "nowrap", render: (job) => html`<${DateText} value=${job.completed} />` },
        ]} />
    </${Page}>`;
}
