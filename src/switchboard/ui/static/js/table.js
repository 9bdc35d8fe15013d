// Lists: one component for every list page. It calls a list command with the page's search keyword,
// filters and page (kept in the query string), sorts the page it got by any sortable column, refreshes on
// demand and by itself while a row is between two states, and lays rows out as cards on a phone.
import { can, declares, list, listAll, paramInfo } from "./api.js";
import { optionList } from "./fields.js";
import { html, useEffect, useRef, useState } from "./lib.js";
import { setQuery, useLocation } from "./router.js";

const PAGE_SIZES = [20, 50, 100];

/** A list's label inside a sentence: "Volumes" → "volumes", but "SSH key pairs" keeps its acronym. */
function inText(label) {
  return label.split(" ").map((word) => (/^[A-Z]{2,}$/.test(word) ? word : word.toLowerCase())).join(" ");
}

function compare(a, b) {
  if (a === b) return 0;
  if (a === undefined || a === null || a === "") return 1;
  if (b === undefined || b === null || b === "") return -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true, sensitivity: "base" });
}

function FilterControl({ filter, value, onChange, id }) {
  const [related, setRelated] = useState(null);
  useEffect(() => {
    if (!filter.related) return undefined;
    let live = true;
    listAll(filter.related, filter.relatedParams || {}).then((items) => { if (live) setRelated(items); }, () => {});
    return () => { live = false; };
  }, [filter.related]);
  // A filter on a list that may be empty (projects) is left out until there is something to choose.
  if (filter.hideEmpty && (related === null || (!related.length && !value))) return null;
  const options = filter.related
    ? (related || []).map((item) => [item.id, (filter.relatedLabel || ((entry) => entry.name))(item)])
    : optionList(filter.options);
  return html`
    <div class="filter">
      <label for=${id}>${filter.label}</label>
      <select id=${id} value=${value || filter.initial || ""} onChange=${(event) => onChange(event.currentTarget.value)}>
        ${!filter.initial && html`<option value="">${filter.all || "All"}</option>`}
        ${options.map(([option, text]) => html`<option value=${option}>${text}</option>`)}
      </select>
    </div>`;
}

/**
 * columns: [{key, label, render(item), value(item) (for sorting; default item[key]), sortable (default
 *   true), primary (the row's name cell), className, phone: false (hidden on phones), laptop: false (shown
 *   on wide screens only), when() (shown when true), field (shown when the command declares it)}]
 * filters: [{param, label, options | related (+relatedLabel, hideEmpty), all}] — only the ones the command
 *   accepts.
 * actions(item, reload): the row's buttons. rowName(item): how buttons name the row for screen readers.
 * busy(item): true while the row is changing (the list reloads itself every few seconds then).
 */
export function ListView({
  command, params = {}, columns, filters = [], search = true, actions, toolbar, empty = "Nothing here yet.",
  busy, label, prefix = "", reloadKey = 0, pageSize = 20, onLoad, rowKey = (item) => item.id, sort: defaultSort,
}) {
  const location = useLocation();
  const query = location.query;
  const q = (name) => query.get(prefix + name) || "";
  const keyword = q("q");
  const page = Math.max(1, Number(q("page")) || 1);
  const size = Number(q("size")) || pageSize;
  const sortKey = q("sort") || (defaultSort && defaultSort.key) || "";
  const sortDir = q("dir") || (defaultSort && defaultSort.dir) || "asc";
  const shownFilters = filters.filter((filter) => paramInfo(command, filter.param));
  // A filter with an `initial` value always has one (a required parameter, e.g. listTemplates' templatefilter).
  const filterValues = Object.fromEntries(shownFilters.map((filter) => [filter.param, q(filter.param) || filter.initial || ""]));

  const [state, setState] = useState({ items: null, count: 0, error: "" });
  const [tick, setTick] = useState(0);
  const [typed, setTyped] = useState(keyword);
  const timer = useRef(null);
  const request = JSON.stringify({ command, params, keyword, page, size, filterValues });

  useEffect(() => { setTyped(keyword); }, [keyword]);

  useEffect(() => {
    let live = true;
    const searchable = search && paramInfo(command, "keyword");
    const args = { listall: true, ...params, page, pagesize: size };
    if (searchable && keyword) args.keyword = keyword;
    for (const [name, value] of Object.entries(filterValues)) if (value) args[name] = value;
    list(command, args).then(
      ({ items, count }) => {
        if (!live) return;
        setState({ items, count, error: "" });
        if (onLoad) onLoad(items);
        clearTimeout(timer.current);
        if (busy && items.some(busy)) timer.current = setTimeout(() => setTick((n) => n + 1), 2000);
      },
      (error) => { if (live) setState((previous) => ({ ...previous, items: previous.items || [], error: error.message })); },
    );
    return () => { live = false; clearTimeout(timer.current); };
  }, [request, tick, reloadKey]);

  const reload = () => setTick((n) => n + 1);
  // Paging adds a history entry (Back returns to the previous page); search, filters and sorting replace it.
  const go = (updates, { push = false } = {}) => setQuery(
    Object.fromEntries(Object.entries(updates).map(([key, value]) => [prefix + key, value])), { replace: !push });

  let rows = state.items || [];
  const sortColumn = columns.find((column) => column.key === sortKey && column.sortable !== false);
  if (sortColumn) {
    const pick = sortColumn.value || ((item) => item[sortColumn.key]);
    rows = [...rows].sort((a, b) => compare(pick(a), pick(b)) * (sortDir === "desc" ? -1 : 1));
  }
  // A column naming the response `field` it shows appears only when the command declares that field.
  const shownColumns = columns.filter((column) => (!column.when || column.when()) && (!column.field || declares(command, column.field)));
  const sortable = shownColumns.filter((column) => column.sortable !== false);
  const hasMore = rows.length >= size || state.count > page * size;
  const total = state.count > rows.length ? state.count : null;

  const header = (column) => {
    const className = [column.className, column.laptop === false ? "laptop-hide" : ""].join(" ").trim() || null;
    if (column.sortable === false) return html`<th scope="col" class=${className}>${column.label}</th>`;
    const active = sortColumn === column;
    const next = active && sortDir === "asc" ? "desc" : "asc";
    return html`
      <th scope="col" class=${className} aria-sort=${active ? (sortDir === "asc" ? "ascending" : "descending") : null}>
        <button type="button" class="sort" onClick=${() => go({ sort: column.key, dir: next })}>
          ${column.label}<span class="sort-mark" aria-hidden="true">${active ? (sortDir === "asc" ? "▲" : "▼") : "↕"}</span>
        </button>
      </th>`;
  };

  return html`
    <section class="list" aria-label=${label}>
      <div class="list-tools">
        ${search && paramInfo(command, "keyword") && html`
          <form class="search" role="search" onSubmit=${(event) => { event.preventDefault(); go({ q: typed.trim(), page: "" }); }}>
            <label class="visually-hidden" for=${`${prefix}search-${command}`}>Search ${label}</label>
            <input id=${`${prefix}search-${command}`} type="search" placeholder=${`Search ${inText(label)}`}
              value=${typed} onInput=${(event) => setTyped(event.currentTarget.value)} />
            <button type="submit">Search</button>
          </form>`}
        ${shownFilters.map((filter) => html`<${FilterControl} key=${filter.param} filter=${filter}
          id=${`${prefix}filter-${filter.param}`} value=${filterValues[filter.param]}
          onChange=${(value) => go({ [filter.param]: value, page: "" })} />`)}
        ${sortable.length > 1 && rows.length > 1 && html`<div class="filter phone-sort">
          <label for=${`${prefix}sort-${command}`}>Sort by</label>
          <select id=${`${prefix}sort-${command}`} value=${sortColumn ? `${sortColumn.key}:${sortDir}` : ""}
            onChange=${(event) => { const [key, dir] = event.currentTarget.value.split(":"); go({ sort: key, dir }); }}>
            ${!sortColumn && html`<option value="">As listed</option>`}
            ${sortable.flatMap((column) => [html`<option value=${`${column.key}:asc`}>${column.label} ↑</option>`,
              html`<option value=${`${column.key}:desc`}>${column.label} ↓</option>`])}
          </select></div>`}
        <div class="list-buttons">
          <button type="button" onClick=${reload} aria-label=${`Refresh ${label}`} title="Refresh">↻ Refresh</button>
          ${toolbar}
        </div>
      </div>
      ${state.error && html`<div class="alert alert-error" role="alert">${state.error}</div>`}
      ${state.items === null ? html`<p class="loading" role="status">Loading ${inText(label)}…</p>` : rows.length === 0
        ? html`<div class="empty" role="status">${keyword || shownFilters.some((filter) => q(filter.param))
          ? html`No ${inText(label)} match. <button type="button" class="link" onClick=${() => go({ q: "", page: "", ...Object.fromEntries(shownFilters.map((filter) => [filter.param, ""])) })}>Clear the search</button>` : empty}</div>`
        : html`
        <div class="table-wrap">
          <table class="grid" data-list=${command}>
            <caption class="visually-hidden">${label}</caption>
            <thead><tr>
              ${shownColumns.map(header)}
              ${actions && html`<th scope="col" class="actions-col">Actions</th>`}
            </tr></thead>
            <tbody>
              ${rows.map((item) => html`
                <tr key=${rowKey(item)} data-id=${item.id} data-name=${item.name}>
                  ${shownColumns.map((column) => html`
                    <td data-label=${column.label} class=${[column.className, column.primary ? "primary-cell" : "", column.phone === false ? "phone-hide" : "", column.laptop === false ? "laptop-hide" : ""].join(" ").trim() || null}>
                      ${column.render ? column.render(item, reload) : item[column.key] ?? ""}</td>`)}
                  ${actions && html`<td class="actions-cell" data-label="Actions"><div class="row-actions">${actions(item, reload)}</div></td>`}
                </tr>`)}
            </tbody>
          </table>
        </div>`}
      ${(page > 1 || hasMore) && html`
        <nav class="pager" aria-label=${`${label} pages`}>
          <button type="button" disabled=${page <= 1} onClick=${() => go({ page: page - 1 > 1 ? page - 1 : "" }, { push: true })}>← Previous</button>
          <span>Page ${page}${total !== null ? ` · ${total} in all` : ""}</span>
          <button type="button" disabled=${!hasMore} onClick=${() => go({ page: page + 1 }, { push: true })}>Next →</button>
          <label class="filter"><span class="visually-hidden">Rows per page</span>
            <select value=${size} onChange=${(event) => go({ size: event.currentTarget.value, page: "" })}>
              ${PAGE_SIZES.map((option) => html`<option value=${option}>${option} per page</option>`)}
            </select></label>
        </nav>`}
    </section>`;
}

/** The column showing the owning account, for sessions that see more accounts than their own. */
export function accountColumn() {
  return { key: "account", label: "Account", when: () => can("createAccount"), value: (item) => item.account || item.project || "",
    render: (item) => html`<span>${item.account || (item.project && html`${item.project}<span class="muted"> · project</span>`)}${item.domain && item.domain !== "ROOT" ? html`<span class="muted"> · ${item.domain}</span>` : ""}</span>` };
}

/**
 * The Project filter (projectid) of lists whose objects may belong to a project; shown once there is one.
 * Without it a user's lists show what the account owns itself; an administrator's (listall) show all.
 */
export function projectFilter() {
  return { param: "projectid", label: "Project", related: "listProjects", all: can("createAccount") ? "All" : "No project",
    hideEmpty: true };
}

/** A button in a row, named with the row's name for screen readers ("Stop web-1"). */
export function RowButton({ label, name, onClick, kind = "", disabled = false, action }) {
  return html`<button type="button" class=${`small ${kind}`.trim()} aria-label=${`${label} ${name}`}
    data-action=${action || label.toLowerCase().replace(/\s+/g, "-")} disabled=${disabled} onClick=${onClick}>${label}</button>`;
}

/** A link styled as a row button, named like RowButton. */
export function RowLink({ label, name, href, action }) {
  return html`<a class="button small" href=${href} aria-label=${`${label} ${name}`}
    data-action=${action || label.toLowerCase().replace(/\s+/g, "-")}>${label}</a>`;
}
