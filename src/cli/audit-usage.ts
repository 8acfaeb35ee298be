// The help text of `cbo audit`, apart so that the offline verifier does not load the API client.
import { usageOf } from "./usage/index.ts";

export const AUDIT_USAGE = usageOf("audit");
