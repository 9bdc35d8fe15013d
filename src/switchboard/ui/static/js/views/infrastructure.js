// The infrastructure at a glance: counts, and the tree zone → pod → cluster → hosts with their states.
import { listAll } from "../api.js";
import { StateBadge } from "../format.js";
import { html, useEffect, useState } from "../lib.js";
import { Alert, Card, Page } from "../page.js";

export default function Infrastructure() {
  const [data, setData] = useState(null);
  const [failure, setFailure] = useState("");
  useEffect(() => {
    Promise.all([listAll("listZones"), listAll("listPods"), listAll("listClusters"), listAll("listHosts")]).then(
      ([zones, pods, clusters, hosts]) => setData({ zones, pods, clusters, hosts }),
      (error) => setFailure(error.message),
    );
  }, []);
  if (failure) return html`<${Page} title="Infrastructure"><${Alert} kind="error">${failure}</${Alert}></${Page}>`;
  if (!data) return html`<${Page} title="Infrastructure"><p class="loading" role="status">Loading…</p></${Page}>`;
  const up = data.hosts.filter((host) => host.state === "Up").length;
  return html`
    <${Page} title="Infrastructure">
      <div class="stats">
        <a class="stat" href="/zones"><span class="stat-value">${data.zones.length}</span><span class="stat-label">Zones</span></a>
        <a class="stat" href="/pods"><span class="stat-value">${data.pods.length}</span><span class="stat-label">Pods</span></a>
        <a class="stat" href="/clusters"><span class="stat-value">${data.clusters.length}</span><span class="stat-label">Clusters</span></a>
        <a class="stat" href="/hosts"><span class="stat-value">${data.hosts.length}</span><span class="stat-label">Hosts</span>
          <span class="stat-detail">${up} up</span></a>
      </div>
      ${data.zones.length === 0 && html`<${Alert} kind="info">No zone yet. <a href="/zones">Add a zone</a>, then a pod, a cluster and its hosts.</${Alert}>`}
      ${data.zones.map((zone) => html`
        <${Card} key=${zone.id} title=${html`${zone.name} <${StateBadge} state=${zone.allocationstate} />`}>
          <ul class="tree">
            ${data.pods.filter((pod) => pod.zoneid === zone.id).map((pod) => html`<li key=${pod.id}>
              <span class="tree-label">Pod <strong>${pod.name}</strong></span>
              <ul>${data.clusters.filter((cluster) => cluster.podid === pod.id).map((cluster) => html`<li key=${cluster.id}>
                <span class="tree-label">Cluster <a href=${`/hosts?clusterid=${cluster.id}`}><strong>${cluster.name}</strong></a>
                  <span class="muted">${cluster.hypervisortype}${cluster.extensionname ? ` · ${cluster.extensionname}` : ""}</span>
                  ${cluster.allocationstate !== "Enabled" && html`<${StateBadge} state=${cluster.allocationstate} />`}</span>
                <ul>${data.hosts.filter((host) => host.clusterid === cluster.id).map((host) => html`<li key=${host.id}>
                  <span class="tree-label">${host.name} <${StateBadge} state=${host.state} />
                    ${host.resourcestate !== "Enabled" && html`<${StateBadge} state=${host.resourcestate} />`}</span></li>`)}
                </ul></li>`)}
              </ul></li>`)}
          </ul>
        </${Card}>`)}
    </${Page}>`;
}
