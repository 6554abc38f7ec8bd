/**
 * Number, plural, date and language formatting for the pages, through the platform's Intl (Node
 * ships full ICU). One locale for now; every formatter is made once, as Intl objects are costly to
 * build and cheap to reuse.
 */
export const LOCALE = 'en';

const plurals = new Intl.PluralRules(LOCALE);
const integers = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });
const decimals = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 2 });
const limits = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 1, maximumFractionDigits: 3 });
const percents = new Intl.NumberFormat(LOCALE, { style: 'percent', maximumFractionDigits: 1 });
const signed = new Intl.NumberFormat(LOCALE, { signDisplay: 'exceptZero', maximumFractionDigits: 0 });
const relative = new Intl.RelativeTimeFormat(LOCALE, { numeric: 'auto' });
const dates = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium', timeZone: 'UTC' });
const dateTimes = new Intl.DateTimeFormat(LOCALE, {
  dateStyle: 'medium',
  timeStyle: 'short',
  timeZone: 'UTC',
});
const shortDays = new Intl.DateTimeFormat(LOCALE, { month: 'short', day: 'numeric', timeZone: 'UTC' });
let languageNames: Intl.DisplayNames | undefined;

/** Forms of a message by plural category; `#` stands for the formatted number. */
export interface PluralForms {
  one?: string;
  other: string;
}

export function plural(n: number, forms: PluralForms): string {
  const category = plurals.select(n);
  const form = (category === 'one' ? forms.one : undefined) ?? forms.other;
  return form.replaceAll('#', integers.format(n));
}

export const formatInteger = (n: number): string => integers.format(n);
export const formatDecimal = (n: number): string => decimals.format(n);
/** A `limit_remote_rooms` complexity as Synapse's config writes it: 1.0, 2.5. */
export const formatLimit = (n: number): string => limits.format(n);
/** A share between 0 and 1 as a percentage. */
export const formatShare = (share: number): string => percents.format(share);
/** +12, −3, 0 */
export const formatChange = (n: number): string => signed.format(n);

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 86_400_000],
  ['month', 30 * 86_400_000],
  ['week', 7 * 86_400_000],
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
];

/** "3 hours ago", "yesterday", "just now". */
export function formatAgo(iso: string | null, now = Date.now()): string | null {
  if (!iso) return null;
  const at = Date.parse(iso);
  if (!Number.isFinite(at)) return null;
  const elapsed = now - at;
  for (const [unit, ms] of UNITS) {
    if (Math.abs(elapsed) >= ms) return relative.format(-Math.round(elapsed / ms), unit);
  }
  return relative.format(0, 'second');
}

export function formatDate(iso: string | null): string | null {
  if (!iso) return null;
  const at = Date.parse(iso);
  return Number.isFinite(at) ? dates.format(at) : null;
}

export function formatDateTime(iso: string | null): string | null {
  if (!iso) return null;
  const at = Date.parse(iso);
  return Number.isFinite(at) ? `${dateTimes.format(at)} UTC` : null;
}

/** "Dec 7" for a `YYYY-MM-DD` day. */
export function formatDay(day: string): string {
  const at = Date.parse(`${day}T00:00:00Z`);
  return Number.isFinite(at) ? shortDays.format(at) : day;
}

/** "German" for `de`; the code itself when the platform does not know it. */
export function languageName(code: string): string {
  try {
    languageNames ??= new Intl.DisplayNames(LOCALE, { type: 'language' });
    return languageNames.of(code) ?? code;
  } catch {
    return code;
  }
}
