// SSH key pairs: public keys put into instances at deploy time. Shown once the server offers the
// key pair commands (listSSHKeyPairs and friends, CloudStack's API).
import { can } from "../api.js";
import { Dialog, confirm } from "../dialogs.js";
import { FormDialog, fromApi } from "../forms.js";
import { run } from "../jobs.js";
import { html, useEffect, useState } from "../lib.js";
import { Page } from "../page.js";
import { projectField, useProjects } from "../projects.js";
import { ListView, RowButton, accountColumn, projectFilter } from "../table.js";

/** The private key of a key pair just created, shown once, with a download (it is not kept anywhere). */
function PrivateKeyDialog({ pair, onClose }) {
  const [href, setHref] = useState("");
  useEffect(() => {
    const url = URL.createObjectURL(new Blob([pair.privatekey || ""], { type: "application/x-pem-file" }));
    setHref(url);
    return () => URL.revokeObjectURL(url);
  }, [pair.privatekey]);
  return html`<${Dialog} title=${`Private key of ${pair.name}`} onClose=${onClose} wide=${true}>
    <div class="form">
      <p>Save it now: the server does not keep it and cannot show it again.</p>
      <pre class="output" data-private-key=${pair.name}>${pair.privatekey}</pre>
      <div class="form-actions">
        ${href && html`<a class="button" href=${href} download=${`${pair.name}.pem`}>Download ${pair.name}.pem</a>`}
        <button type="button" class="primary" onClick=${onClose}>Done</button>
      </div>
    </div>
  </${Dialog}>`;
}

export default function SshKeys() {
  const projects = useProjects();
  const [dialog, setDialog] = useState(null);
  const [reloadKey, setReloadKey] = useState(0);
  const reload = () => setReloadKey((n) => n + 1);
  const close = () => setDialog(null);
  const remove = async (pair, changed) => {
    if (!await confirm({ title: `Delete key pair ${pair.name}?`, confirmLabel: "Delete", danger: true,
      message: "Instances that have the key keep it; new ones cannot get it." })) return;
    // A key pair is named within its owner: a project's, or (for administrators) another account's.
    const owner = pair.projectid ? { projectid: pair.projectid }
      : can("createAccount") && pair.account ? { account: pair.account, domainid: pair.domainid } : {};
    try { await run("deleteSSHKeyPair", { name: pair.name, ...owner }, { label: `Delete key pair ${pair.name}` }); } catch (_error) { /* listed */ }
    changed();
  };
  return html`
    <${Page} title="SSH key pairs" actions=${html`
      ${can("registerSSHKeyPair") && html`<button type="button" onClick=${() => setDialog({ kind: "register" })}>Add a public key</button>`}
      ${can("createSSHKeyPair") && html`<button type="button" class="primary" onClick=${() => setDialog({ kind: "create" })}>Create key pair</button>`}`}>
      <${ListView} command="listSSHKeyPairs" label="SSH key pairs" reloadKey=${reloadKey} rowKey=${(pair) => pair.id || pair.name}
        empty="No key pairs yet. Add your public key, or create a pair and keep its private key."
        filters=${[projectFilter()]}
        columns=${[
          { key: "name", label: "Name", primary: true, render: (pair) => html`<span class="row-title">${pair.name}</span>` },
          { key: "fingerprint", label: "Fingerprint", render: (pair) => html`<code class="path">${pair.fingerprint}</code>` },
          { key: "project", label: "Project", phone: false, when: () => Boolean(projects && projects.length),
            render: (pair) => pair.project || html`<span class="muted">—</span>` },
          accountColumn(),
        ]}
        actions=${can("deleteSSHKeyPair") && ((pair, changed) => html`<${RowButton} label="Delete" name=${pair.name}
          kind="danger-outline" onClick=${() => remove(pair, changed)} />`)} />
      ${dialog && dialog.kind === "register" && html`<${FormDialog} title="Add a public key" command="registerSSHKeyPair"
        fields=${fromApi("registerSSHKeyPair", [{ name: "name", label: "Name" },
          { name: "publickey", label: "Public key", type: "textarea", placeholder: "ssh-ed25519 AAAA… you@host",
            help: "One line in OpenSSH's form, as in ~/.ssh/id_ed25519.pub." }, projectField(projects)])}
        submitLabel="Add key" label=${(values) => `Add key pair ${values.name}`} onClose=${close} onDone=${reload} />`}
      ${dialog && dialog.kind === "create" && html`<${FormDialog} title="Create a key pair" command="createSSHKeyPair"
        fields=${fromApi("createSSHKeyPair", [{ name: "name", label: "Name" }, projectField(projects)])} submitLabel="Create"
        label=${(values) => `Create key pair ${values.name}`} onClose=${close}
        onDone=${(reply) => { reload(); setDialog({ kind: "private", pair: (reply && reply.keypair) || reply }); }} />`}
      ${dialog && dialog.kind === "private" && html`<${PrivateKeyDialog} pair=${dialog.pair} onClose=${close} />`}
    </${Page}>`;
}
