// Your profile: who you are, your password, your API keys.
import { find } from "../api.js";
import { DateText } from "../format.js";
import { ApiForm } from "../forms.js";
import { html, useEffect, useState } from "../lib.js";
import { Alert, Card, Details, Page } from "../page.js";
import { user as sessionUser } from "../session.js";
import { KeysDialog, userFields } from "./users.js";

export default function Profile() {
  const who = sessionUser();
  const [me, setMe] = useState(undefined);
  const [keys, setKeys] = useState(false);
  useEffect(() => {
    if (who.userid) find("listUsers", who.userid).then(setMe, () => setMe(null));
    else setMe(null);
  }, []);
  if (me === undefined) return html`<${Page} title="Your profile"><p class="loading" role="status">Loading…</p></${Page}>`;
  if (!me) return html`<${Page} title="Your profile"><${Alert} kind="info">Log out and in again to see your profile.</${Alert}></${Page}>`;
  const [current, fresh] = ["currentpassword", "password"].map((name) => userFields("updateUser").find((field) => field.name === name));
  const password = [
    current && { ...current, required: true, help: null, autocomplete: "current-password" },
    fresh && { ...fresh, label: "New password", required: true, help: "Choose a long one." },
    fresh && { name: "repeat", label: "The new password again", type: "password", local: true, required: true,
      validate: (value, values) => (value === values.password ? "" : "The two new passwords differ.") },
  ].filter(Boolean);
  return html`
    <${Page} title="Your profile" actions=${html`<button type="button" onClick=${() => setKeys(true)}>API keys</button>`}>
      <div class="split">
        <${Card} title="You">
          <${Details} rows=${[["Username", me.username], ["Name", [me.firstname, me.lastname].filter(Boolean).join(" ")],
            ["E-mail", me.email], ["Account", me.account], ["Role", me.rolename], ["Domain", me.domainpath || me.domain],
            ["Member since", html`<${DateText} value=${me.created} />`]]} />
        </${Card}>
        <${Card} title="Change your password">
          <${ApiForm} command="updateUser" fields=${password} extra=${{ id: me.id }} idPrefix="profile"
            label="Change your password" submitLabel="Change password" />
        </${Card}>
      </div>
      ${keys && html`<${KeysDialog} user=${me} onClose=${() => setKeys(false)} />`}
    </${Page}>`;
}
