// Response headers, through Hono's secure-headers middleware. Every answer of the daemon gets the
// baseline (no MIME sniffing, no referrer, no framing, same-origin resource and opener policies).
// The dashboard's pages and assets also get a strict Content-Security-Policy: only this origin's
// own script, style and connections (the event stream's WebSocket included); no inline script or
// style, no eval, no plugins, no framing by any page, forms post only here. The dashboard's code is
// written for it (no innerHTML, no style attributes).
import { secureHeaders } from "hono/secure-headers";

const SELF = ["'self'"];

export const DASHBOARD_CSP = {
  defaultSrc: SELF,
  scriptSrc: SELF,
  styleSrc: SELF,
  imgSrc: [...SELF, "data:"],
  connectSrc: SELF,
  fontSrc: SELF,
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: SELF,
  frameAncestors: ["'none'"],
};

/** Every answer of the daemon, API included. */
export const baseSecurityHeaders = () => secureHeaders({ xFrameOptions: "DENY" });

/** The dashboard's pages and assets. */
export const dashboardSecurityHeaders = () =>
  secureHeaders({
    xFrameOptions: "DENY",
    contentSecurityPolicy: DASHBOARD_CSP,
    permissionsPolicy: { camera: false, microphone: false, geolocation: false, payment: false, usb: false },
  });
