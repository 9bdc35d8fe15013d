// Every page of the UI: its path (the server's routes.py PAGE_PATHS lists the same paths, so an unknown
// path is a real 404), its view module (loaded when first shown), its title, where it sits in the
// navigation, and the API commands a session needs for it. A page whose commands the session may not
// call (listApis) is left out of the navigation and answers with a clear "not for your account" page.

export const SECTIONS = ["Compute", "Storage", "Network", "Offerings", "Infrastructure", "Extensions", "Monitor", "Accounts",
  "Configuration"];

export const ROUTES = [
  { path: "/login", view: () => import("./views/login.js"), title: "Log in", bare: true },
  { path: "/", view: () => import("./views/dashboard.js"), title: "Dashboard", nav: "Dashboard" },
  { path: "/projects", view: () => import("./views/projects.js"), title: "Projects", nav: "Projects",
    requires: ["listProjects"] },
  { path: "/projects/{id}", view: () => import("./views/project.js"), title: "Project", parent: "/projects",
    requires: ["listProjects"] },
  { path: "/instances", view: () => import("./views/instances.js"), title: "Instances", section: "Compute",
    requires: ["listVirtualMachines"] },
  { path: "/instances/{id}", view: () => import("./views/instance.js"), title: "Instance", parent: "/instances",
    requires: ["listVirtualMachines"] },
  { path: "/deploy", view: () => import("./views/deploy.js"), title: "Deploy an instance", parent: "/instances",
    requires: ["deployVirtualMachine"] },
  { path: "/templates", view: () => import("./views/templates.js"), title: "Templates", section: "Compute",
    requires: ["listTemplates"] },
  { path: "/sshkeys", view: () => import("./views/sshkeys.js"), title: "SSH key pairs", section: "Compute",
    requires: ["listSSHKeyPairs"] },
  { path: "/userdata", view: () => import("./views/userdata.js"), title: "User data", section: "Compute",
    requires: ["listUserData"] },
  { path: "/volumes", view: () => import("./views/volumes.js"), title: "Volumes", section: "Storage",
    requires: ["listVolumes"] },
  { path: "/networks", view: () => import("./views/networks.js"), title: "Networks", section: "Network",
    requires: ["listNetworks"] },
  { path: "/offerings", view: () => import("./views/offerings.js"), title: "Service offerings", section: "Offerings",
    requires: ["listServiceOfferings"] },
  { path: "/diskofferings", view: () => import("./views/diskofferings.js"), title: "Disk offerings",
    section: "Offerings", requires: ["listDiskOfferings"] },
  { path: "/networkofferings", view: () => import("./views/networkofferings.js"), title: "Network offerings",
    section: "Offerings", requires: ["listNetworkOfferings", "createNetworkOffering"] },
  { path: "/infrastructure", view: () => import("./views/infrastructure.js"), title: "Infrastructure",
    section: "Infrastructure", nav: "Summary", requires: ["listHosts", "listClusters"] },
  { path: "/zones", view: () => import("./views/zones.js"), title: "Zones", section: "Infrastructure",
    requires: ["createZone"] },
  { path: "/pods", view: () => import("./views/pods.js"), title: "Pods", section: "Infrastructure",
    requires: ["listPods"] },
  { path: "/clusters", view: () => import("./views/clusters.js"), title: "Clusters", section: "Infrastructure",
    requires: ["listClusters"] },
  { path: "/hosts", view: () => import("./views/hosts.js"), title: "Hosts", section: "Infrastructure",
    requires: ["listHosts"] },
  { path: "/extensions", view: () => import("./views/extensions.js"), title: "Extensions", section: "Extensions",
    requires: ["listExtensions"] },
  { path: "/extensions/{id}", view: () => import("./views/extension.js"), title: "Extension",
    parent: "/extensions", requires: ["listExtensions"] },
  { path: "/events", view: () => import("./views/events.js"), title: "Events", section: "Monitor",
    requires: ["listEvents"] },
  { path: "/alerts", view: () => import("./views/alerts.js"), title: "Alerts", section: "Monitor",
    requires: ["listAlerts"] },
  { path: "/jobs", view: () => import("./views/jobs.js"), title: "Jobs", section: "Monitor",
    requires: ["listAsyncJobs"] },
  { path: "/accounts", view: () => import("./views/accounts.js"), title: "Accounts", section: "Accounts",
    requires: ["listAccounts", "createAccount"] },
  { path: "/accounts/{id}", view: () => import("./views/account.js"), title: "Account", parent: "/accounts",
    requires: ["listAccounts", "listUsers"] },
  { path: "/domains", view: () => import("./views/domains.js"), title: "Domains", section: "Accounts",
    requires: ["listDomains", "createDomain"] },
  { path: "/roles", view: () => import("./views/roles.js"), title: "Roles", section: "Accounts",
    requires: ["listRoles", "createAccount"] },
  { path: "/settings", view: () => import("./views/settings.js"), title: "Global settings",
    section: "Configuration", requires: ["listConfigurations"] },
  { path: "/profile", view: () => import("./views/profile.js"), title: "Your profile", requires: ["listUsers"] },
];

const compiled = ROUTES.map((route) => {
  const names = [];
  const source = route.path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{(\w+)\}/g, (_match, name) => {
    names.push(name);
    return "([^/]+)";
  });
  return { route, names, pattern: new RegExp(`^${source}/?$`) };
});

/** The route for `pathname` and its path parameters, or null. */
export function match(pathname) {
  for (const { route, names, pattern } of compiled) {
    const found = pattern.exec(pathname);
    if (found) {
      const params = {};
      names.forEach((name, index) => { params[name] = decodeURIComponent(found[index + 1]); });
      return { route, params };
    }
  }
  return null;
}
