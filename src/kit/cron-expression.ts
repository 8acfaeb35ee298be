// Cron expressions as Cloudflare Cron Triggers take them (developers.cloudflare.com/workers/
// configuration/cron-triggers): five fields in UTC, `* , - /` everywhere, names for months
// (JAN-DEC) and weekdays (SUN-SAT), weekdays 1-7 with 1 = Sunday (0 is taken as Sunday too), `L`
// and `W` in the day of month (L, LW, 15W), `L` and `#` in the day of week (6L = last Friday,
// MON#2 = second Monday). When both day fields are restricted, a day matching either one
// matches (classic cron). In kit: the local edge runs them, and orchestrator.yaml and wrangler
// configs are checked with them when read, so a bad one is refused before a release uploads anything.

export type CronExpression = { source: string; matches(date: Date): boolean };

export class CronSyntaxError extends Error {}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

type Field = { name: string; min: number; max: number; names?: string[]; nameBase?: number };
const MINUTE: Field = { name: "minute", min: 0, max: 59 };
const HOUR: Field = { name: "hour", min: 0, max: 23 };
const DOM: Field = { name: "day of month", min: 1, max: 31 };
const MONTH: Field = { name: "month", min: 1, max: 12, names: MONTHS, nameBase: 1 };
const DOW: Field = { name: "day of week", min: 0, max: 7, names: DAYS, nameBase: 1 };

function number(field: Field, text: string): number {
  const upper = text.toUpperCase();
  const named = field.names?.indexOf(upper) ?? -1;
  const n = named >= 0 ? named + field.nameBase! : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < field.min || n > field.max) {
    throw new CronSyntaxError(
      `"${text}" is not a valid ${field.name} (${field.min}-${field.max}${field.names ? ` or ${field.names[0]}-${field.names.at(-1)}` : ""}).`,
    );
  }
  return n;
}

/** The values one plain field (no L/W/#) allows. */
function values(field: Field, text: string): Set<number> {
  const out = new Set<number>();
  for (const item of text.split(",")) {
    if (item === "") throw new CronSyntaxError(`Empty list item in the ${field.name} field.`);
    const [range, stepText] = item.split("/") as [string, string | undefined];
    if (item.split("/").length > 2) throw new CronSyntaxError(`"${item}" has more than one "/" in the ${field.name} field.`);
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new CronSyntaxError(`"${item}": the step must be a whole number of at least 1.`);
    let lo: number;
    let hi: number;
    if (range === "*") [lo, hi] = [field.min === 0 && field === DOW ? 1 : field.min, field === DOW ? 7 : field.max];
    else if (range.includes("-")) {
      const [a, b] = range.split("-") as [string, string];
      [lo, hi] = [number(field, a), number(field, b)];
      if (lo > hi) throw new CronSyntaxError(`"${item}": the range runs backwards in the ${field.name} field.`);
    } else {
      lo = number(field, range);
      hi = stepText === undefined ? lo : field === DOW ? 7 : field.max;
    }
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

const daysInMonth = (y: number, m: number) => new Date(Date.UTC(y, m + 1, 0)).getUTCDate();

/** The weekday (Mon-Fri) nearest to `day` within the month, as Quartz's W. */
function nearestWeekday(y: number, m: number, day: number): number {
  const last = daysInMonth(y, m);
  const d = Math.min(day, last);
  const wd = new Date(Date.UTC(y, m, d)).getUTCDay();
  if (wd === 6) return d === 1 ? 3 : d - 1;
  if (wd === 0) return d === last ? d - 2 : d + 1;
  return d;
}

type DayTest = (date: Date) => boolean;

function domTest(text: string): DayTest {
  const tests: DayTest[] = [];
  const plain: string[] = [];
  for (const item of text.split(",")) {
    const up = item.toUpperCase();
    if (up === "L") tests.push((d) => d.getUTCDate() === daysInMonth(d.getUTCFullYear(), d.getUTCMonth()));
    else if (up === "LW") {
      tests.push(
        (d) => d.getUTCDate() === nearestWeekday(d.getUTCFullYear(), d.getUTCMonth(), daysInMonth(d.getUTCFullYear(), d.getUTCMonth())),
      );
    } else if (/^\d+W$/.test(up)) {
      const day = number(DOM, up.slice(0, -1));
      tests.push((d) => d.getUTCDate() === nearestWeekday(d.getUTCFullYear(), d.getUTCMonth(), day));
    } else plain.push(item);
  }
  if (plain.length) {
    const set = values(DOM, plain.join(","));
    tests.push((d) => set.has(d.getUTCDate()));
  }
  return (d) => tests.some((t) => t(d));
}

/** Weekday numbers as Cloudflare counts them (1 = Sunday … 7 = Saturday; 0 also Sunday) -> JS getUTCDay(). */
const jsDay = (n: number) => (n === 0 ? 0 : n - 1);

function dowTest(text: string): DayTest {
  const tests: DayTest[] = [];
  const plain: string[] = [];
  for (const item of text.split(",")) {
    const up = item.toUpperCase();
    const last = /^(\w+)L$/.exec(up);
    const nth = /^(\w+)#([1-5])$/.exec(up);
    if (up === "L") tests.push((d) => d.getUTCDay() === 6);
    else if (last) {
      const wd = jsDay(number(DOW, last[1]!));
      tests.push((d) => d.getUTCDay() === wd && d.getUTCDate() + 7 > daysInMonth(d.getUTCFullYear(), d.getUTCMonth()));
    } else if (nth) {
      const wd = jsDay(number(DOW, nth[1]!));
      const k = Number(nth[2]);
      tests.push((d) => d.getUTCDay() === wd && Math.ceil(d.getUTCDate() / 7) === k);
    } else plain.push(item);
  }
  if (plain.length) {
    const set = new Set([...values(DOW, plain.join(","))].map(jsDay));
    tests.push((d) => set.has(d.getUTCDay()));
  }
  return (d) => tests.some((t) => t(d));
}

export function parseCron(source: string): CronExpression {
  const fields = source.trim().split(/\s+/);
  if (fields.length !== 5 || fields[0] === "") {
    throw new CronSyntaxError(
      `"${source}" has ${fields[0] === "" ? 0 : fields.length} fields; a cron expression has five: minute hour day-of-month month day-of-week.`,
    );
  }
  const [min, hour, dom, month, dow] = fields as [string, string, string, string, string];
  const minutes = values(MINUTE, min);
  const hours = values(HOUR, hour);
  const months = values(MONTH, month);
  const domAny = dom === "*" || dom === "?";
  const dowAny = dow === "*" || dow === "?";
  const domOk = domAny ? () => true : domTest(dom);
  const dowOk = dowAny ? () => true : dowTest(dow);
  const dayOk: DayTest = !domAny && !dowAny ? (d) => domOk(d) || dowOk(d) : (d) => domOk(d) && dowOk(d);
  return {
    source,
    matches(date) {
      return minutes.has(date.getUTCMinutes()) && hours.has(date.getUTCHours()) && months.has(date.getUTCMonth() + 1) && dayOk(date);
    },
  };
}
