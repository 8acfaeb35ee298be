// Public surface of the monitor: created by the daemon, read by the API.
export { createMonitor, type Monitor, type MonitorOptions } from "./monitor.ts";
export { decideHealth, type HealthVerdict, type ProbeResult } from "./health-verdict.ts";
