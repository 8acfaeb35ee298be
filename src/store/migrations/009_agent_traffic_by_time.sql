-- The metrics page reads the agents' traffic per worker, target and minute over a time range
-- (src/store/agents.ts minutes(), src/fleet-metrics/): by tenant and time, which the primary key
-- (tenant, worker, target, version_id, second) cannot serve without scanning every row.
CREATE INDEX IF NOT EXISTS agent_traffic_by_time ON agent_traffic (tenant, second);
