// The metrics page's time series (issue 16): analytics and heartbeats per worker, target and minute.
export { createFleetMetrics, type AgentMinute, type FleetMetrics, type FleetMetricsDeps } from "./series.ts";
