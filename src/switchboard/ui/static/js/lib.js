// The component library the views share: Preact (vendored, see ../vendor/README.md) with htm for markup in
// tagged templates, so the modules run in the browser as they are, with no build step and no eval.
// htm and Preact set text and properties through the DOM, never through innerHTML: data stays text.
import { Fragment, createContext, h, render } from "../vendor/preact.js";
import {
  useCallback, useContext, useEffect, useErrorBoundary, useId, useLayoutEffect, useMemo, useReducer, useRef, useState,
} from "../vendor/hooks.js";
import htm from "../vendor/htm.js";

export const html = htm.bind(h);
export {
  Fragment, createContext, h, render,
  useCallback, useContext, useEffect, useErrorBoundary, useId, useLayoutEffect, useMemo, useReducer, useRef, useState,
};
