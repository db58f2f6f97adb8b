// Daily and weekly demand curves. Interactive inference traffic follows its users' day: the public Azure LLM
// inference traces (2023/2024; Patel et al., "Splitwise", ISCA 2024; Stojkovic et al., "DynamoLLM", HPCA 2025)
// show load rising through the working day and falling at night, and lower at weekends (approximately: the
// simulator uses a smooth curve with a night trough of a quarter of the afternoon peak and weekends at 60%).
import { DAY, HOUR } from './schedule.ts';

/** Local hour of day (0 ≤ h < 24) at `t` for users at UTC+`utcOffsetHours`. */
export function localHour(t: number, utcOffsetHours: number): number {
  const hours = t / HOUR + utcOffsetHours;
  return ((hours % 24) + 24) % 24;
}

/** Local day of the week at `t`: 0 is Sunday (1970-01-01 was a Thursday). */
export function localWeekday(t: number, utcOffsetHours: number): number {
  const days = Math.floor((t + utcOffsetHours * HOUR) / DAY);
  return (((days + 4) % 7) + 7) % 7;
}

export function isWeekend(t: number, utcOffsetHours: number): boolean {
  const day = localWeekday(t, utcOffsetHours);
  return day === 0 || day === 6;
}

/** Share of peak demand at `t`: 0.25 at 03:00 local, 1 at 15:00 local on weekdays; weekends 0.6 of that. */
export function diurnalLoad(t: number, utcOffsetHours: number): number {
  const hour = localHour(t, utcOffsetHours);
  const wave = 0.5 - 0.5 * Math.cos((2 * Math.PI * (hour - 3)) / 24);
  return (0.25 + 0.75 * wave) * (isWeekend(t, utcOffsetHours) ? 0.6 : 1);
}

/** True in working hours (09:00-18:00 local, Monday to Friday). */
export function isWorkingHour(t: number, utcOffsetHours: number): boolean {
  const hour = localHour(t, utcOffsetHours);
  return !isWeekend(t, utcOffsetHours) && hour >= 9 && hour < 18;
}
