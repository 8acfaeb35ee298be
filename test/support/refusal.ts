// The CboError a call is refused with, for tests that then check its code, message and hint: a call
// that succeeds, or fails with anything but a CboError, fails the test here.
import { isCboError, type CboError } from "../../src/kit/errors.ts";

export async function refusal(p: Promise<unknown>): Promise<CboError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!isCboError(e)) throw new Error(`expected a CboError, got ${e === undefined ? "success" : String(e)}`);
  return e;
}
