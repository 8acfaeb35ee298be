// Is a release allowed now? Pure: orchestrator.yaml's `windows` (src/config/windows-schema.ts)
// and an instant. Times are compared as wall-clock readings in each window's time zone, so a
// window keeps its local hours across daylight-saving changes.
import type { ReleaseWindow, Windows } from "../config/windows-schema.ts";

const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/** The wall clock in `tz` at `at`: `YYYY-MM-DD HH:MM` and the minute of the week (Mon 00:00 = 0). */
function wallClock(at: Date, tz: string): { stamp: string; weekMinute: number } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      weekday: "short",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
    })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  const hour = Number(parts.hour) % 24;
  const minute = Number(parts.minute);
  return {
    stamp: `${parts.year}-${parts.month}-${parts.day} ${String(hour).padStart(2, "0")}:${parts.minute}`,
    weekMinute: DAYS.indexOf(parts.weekday!) * 1440 + hour * 60 + minute,
  };
}

const weekMinuteOf = (s: string) => {
  const [day, hm] = s.split(" ") as [string, string];
  const [h, m] = hm.split(":").map(Number) as [number, number];
  return DAYS.indexOf(day) * 1440 + h * 60 + m;
};

export function inWindow(w: ReleaseWindow, at: Date): boolean {
  const now = wallClock(at, w.tz);
  if (/^\d/.test(w.from)) return now.stamp >= w.from && now.stamp < w.to;
  const from = weekMinuteOf(w.from);
  const to = weekMinuteOf(w.to);
  return from < to ? now.weekMinute >= from && now.weekMinute < to : now.weekMinute >= from || now.weekMinute < to;
}

export const describeWindow = (w: ReleaseWindow) => `${w.from} → ${w.to} ${w.tz}${w.note ? ` (${w.note})` : ""}`;

/** undefined: releases may start now; else why not (which window). */
export function windowRefusal(windows: Windows | undefined, at: Date): string | undefined {
  if (!windows) return undefined;
  const i = windows.deny.findIndex((w) => inWindow(w, at));
  if (i >= 0) return `windows.deny[${i}]: ${describeWindow(windows.deny[i]!)}`;
  if (windows.allow && windows.allow.length > 0 && !windows.allow.some((w) => inWindow(w, at)))
    return `outside every windows.allow window (${windows.allow.map(describeWindow).join("; ")})`;
  return undefined;
}
