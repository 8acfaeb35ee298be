-- What a version the orchestrator uploaded holds that the edge does not return: its modules'
-- hashes (and their code hash) and its static-assets manifest (path -> hash), as JSON. `cbo diff`
-- compares the version a target serves with the spec through it (src/deploy/diff.ts).
ALTER TABLE versions ADD COLUMN facts TEXT;
