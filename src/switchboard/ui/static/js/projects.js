// Projects as the other pages meet them: whether the session belongs to any (so that project pickers and
// filters appear only then), and the Project field of the forms that create something a project may own.
import { can, listAll } from "./api.js";
import { useEffect, useState } from "./lib.js";

let known = null;
let pending = null;

function load() {
  if (!pending) {
    pending = (can("listProjects") ? listAll("listProjects", { state: "Active" }) : Promise.resolve([]))
      .then((found) => { known = found; return found; }, () => { known = []; return known; });
  }
  return pending;
}

/** Forget what is known (after a project was created, suspended or deleted). */
export function projectsChanged() {
  known = null;
  pending = null;
}

/** The active projects the session may use (null while loading; [] when none or not offered). */
export function useProjects() {
  const [projects, setProjects] = useState(known);
  useEffect(() => {
    let live = true;
    load().then((found) => { if (live) setProjects(found); });
    return () => { live = false; };
  }, []);
  return projects;
}

/** The Project field of a form whose command takes `projectid` (left out by fromApi when it does not). */
export function projectField(projects, more = {}) {
  if (!projects || !projects.length) return null;
  return { name: "projectid", label: "Project", blank: "None: your account owns it", relatedParams: { state: "Active" },
    help: "Made in a project, it belongs to the project and its members use it.", ...more };
}
