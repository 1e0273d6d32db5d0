// Field decoders that work on byte ranges of the read buffer, so the hot loop never builds a
// string for a number. Each returns NaN when the bytes are not what it expects; the caller knows
// the file, line and column and raises the ImportError.

const MS_PER_DAY = 86_400_000;
const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A decimal number (sign, digits, fraction, exponent; surrounding spaces allowed), else NaN. */
export function parseNumber(b: Buffer, s: number, e: number): number {
  // Fast path, kept small so V8 inlines it into the row loop: a plain integer of at most 15
  // digits (exact in a double). Everything else goes through the text path.
  let i = s;
  const neg = b[i] === 45;
  if (neg) i++;
  if (i === e || e - i > 15) return parseNumberText(b, s, e);
  let v = 0;
  for (; i < e; i++) {
    const d = b[i] - 48;
    if (d < 0 || d > 9) return parseNumberText(b, s, e);
    v = v * 10 + d;
  }
  return neg ? -v : v;
}

function parseNumberText(b: Buffer, s: number, e: number): number {
  const text = b.toString('latin1', s, e).trim();
  return NUMBER_TEXT.test(text) ? Number(text) : NaN;
}

/** What parseIntId returns for a valid id too long for a double: read it with intIdText. */
export const BIG_ID = Infinity;

/**
 * An integer id: plain decimal digits with an optional leading '-' (no '+', spaces, exponent or
 * fraction: `1e3`, `+7`, ` 12` and `1.0` are not ids). Leading zeros are not significant. The
 * value when it has at most 15 significant digits (exact in a double), BIG_ID when it has more,
 * else NaN.
 */
export function parseIntId(b: Buffer, s: number, e: number): number {
  let i = s;
  const neg = b[i] === 45;
  if (neg) i++;
  if (i === e) return NaN;
  while (i < e - 1 && b[i] === 48) i++;
  const long = e - i > 15;
  let v = 0;
  for (; i < e; i++) {
    const d = b[i] - 48;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  if (long) return BIG_ID;
  return neg ? -v : v;
}

/** The exact text of an id parseIntId called BIG_ID: sign and digits, leading zeros dropped. */
export function intIdText(b: Buffer, s: number, e: number): string {
  const neg = b[s] === 45;
  let i = neg ? s + 1 : s;
  while (i < e - 1 && b[i] === 48) i++;
  return (neg ? '-' : '') + b.toString('latin1', i, e);
}

/** Days since 1970-01-01 of a valid calendar date, else NaN. */
function epochDay(y: number, m: number, d: number): number {
  if (m < 1 || m > 12 || d < 1 || d > 31) return NaN;
  const ms = Date.UTC(y, m - 1, d);
  // Date.UTC rolls 2021-02-30 over into March: a changed month means the day did not exist.
  return new Date(ms).getUTCMonth() === m - 1 ? ms / MS_PER_DAY : NaN;
}

function digits(b: Buffer, s: number, n: number): number {
  let v = 0;
  for (let i = s; i < s + n; i++) {
    const d = b[i] - 48;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return v;
}

/** How a day column is written; fixed by a preset or detected from the first value. */
export type DayFormat = 'int' | 'yyyymmdd' | 'yyyy-mm-dd';

export function detectDayFormat(text: string): DayFormat | undefined {
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return 'yyyy-mm-dd';
  if (/^\d{8}$/.test(text)) {
    const b = Buffer.from(text, 'latin1');
    if (!Number.isNaN(epochDay(digits(b, 0, 4), digits(b, 4, 2), digits(b, 6, 2)))) return 'yyyymmdd';
  }
  if (/^[+-]?\d+$/.test(text.trim())) return 'int';
  return undefined;
}

/**
 * A day key whose numeric order is calendar order: the integer itself for 'int', days since
 * 1970-01-01 for dates. NaN when the field does not match the format or the date does not exist.
 */
export function parseDayKey(b: Buffer, s: number, e: number, format: DayFormat): number {
  if (format === 'int') {
    const v = parseNumber(b, s, e);
    return Number.isInteger(v) ? v : NaN;
  }
  if (format === 'yyyymmdd') return e - s === 8 ? epochDay(digits(b, s, 4), digits(b, s + 4, 2), digits(b, s + 6, 2)) : NaN;
  if (e - s !== 10 || b[s + 4] !== 45 || b[s + 7] !== 45) return NaN;
  return epochDay(digits(b, s, 4), digits(b, s + 5, 2), digits(b, s + 8, 2));
}

/** How a time column is written: epoch seconds, epoch milliseconds, or ISO 8601 text. */
export type TimeFormat = 'epoch-s' | 'epoch-ms' | 'iso';

/** Times must fall in [1970-01-01, 2100-01-01): a wider range only admits unit mistakes. */
export const TIME_END_MS = Date.UTC(2100, 0, 1);
/** A number below this is seconds, at or above it milliseconds (1e11 s is the year 5138, 1e11 ms is 1973). */
const SECONDS_BELOW = 1e11;

/**
 * The first value fixes the unit: numbers below 1e11 are seconds, others milliseconds. Every
 * later value must then lie in the range of that unit (timeInRange), so a column is never half
 * seconds, half milliseconds.
 */
export function detectTimeFormat(text: string): TimeFormat | undefined {
  const b = Buffer.from(text, 'utf8');
  const v = parseNumber(b, 0, b.length);
  if (!Number.isNaN(v)) return Math.abs(v) < SECONDS_BELOW ? 'epoch-s' : 'epoch-ms';
  return Number.isNaN(parseIsoMs(b, 0, b.length)) ? undefined : 'iso';
}

/** The smallest epoch-ms time of a format: a millisecond value below 1e11 reads as seconds. */
export function timeFloorMs(format: TimeFormat): number {
  return format === 'epoch-ms' ? SECONDS_BELOW : 0;
}

/** Why epoch-ms `ms` (parsed as `format`) is out of range: the unit it suggests, or the range. */
export function timeRangeReason(ms: number, format: TimeFormat, fixedAt: string): string {
  if (format === 'epoch-s' && ms >= SECONDS_BELOW * 1000) {
    return `looks like milliseconds, but the column's first value (${fixedAt}) fixed its unit as seconds`;
  }
  if (format === 'epoch-ms' && ms >= 0 && ms < SECONDS_BELOW) {
    return `looks like seconds, but the column's first value (${fixedAt}) fixed its unit as milliseconds`;
  }
  const unit = format === 'epoch-s' ? 'seconds' : format === 'epoch-ms' ? 'milliseconds' : 'a date-time';
  return `is outside 1970-01-01 .. 2099-12-31 (read as ${unit})`;
}

/** Epoch milliseconds, rounded to an integer; NaN when the field does not match the format. */
export function parseTimeMs(b: Buffer, s: number, e: number, format: TimeFormat): number {
  if (format === 'iso') return parseIsoMs(b, s, e);
  const v = parseNumber(b, s, e);
  return Math.round(format === 'epoch-s' ? v * 1000 : v);
}

/** UTC day number of an epoch-ms time (calendar days in UTC: the files carry no time zone). */
export function dayOfTime(ms: number): number {
  return Math.floor(ms / MS_PER_DAY);
}

/**
 * `yyyy-mm-dd`, optionally `[T ]hh:mm[:ss[.fff]]` and a zone (`Z`, `±hh:mm`, `±hhmm`);
 * no zone means UTC. Parsed by hand: Date.parse is slow and lenient with odd strings.
 */
export function parseIsoMs(b: Buffer, s: number, e: number): number {
  if (e - s < 10 || b[s + 4] !== 45 || b[s + 7] !== 45) return NaN;
  const day = epochDay(digits(b, s, 4), digits(b, s + 5, 2), digits(b, s + 8, 2));
  let i = s + 10;
  let ms = day * MS_PER_DAY;
  if (i < e && (b[i] === 84 || b[i] === 32)) {
    if (e - i < 6 || b[i + 3] !== 58) return NaN;
    const hh = digits(b, i + 1, 2);
    const mm = digits(b, i + 4, 2);
    if (hh > 23 || mm > 59) return NaN;
    ms += hh * 3_600_000 + mm * 60_000;
    i += 6;
    if (i < e && b[i] === 58) {
      const ss = digits(b, i + 1, 2);
      if (!(ss <= 60)) return NaN;
      ms += ss * 1000;
      i += 3;
      if (i < e && (b[i] === 46 || b[i] === 44)) {
        let j = i + 1;
        let scale = 100;
        let frac = 0;
        while (j < e && b[j] >= 48 && b[j] <= 57) {
          frac += (b[j] - 48) * scale;
          scale /= 10;
          j++;
        }
        if (j === i + 1) return NaN;
        ms += Math.round(frac);
        i = j;
      }
    }
    if (i < e && b[i] === 90) {
      i++;
    } else if (i < e && (b[i] === 43 || b[i] === 45)) {
      const sign = b[i] === 43 ? 1 : -1;
      const oh = digits(b, i + 1, 2);
      const colon = b[i + 3] === 58 ? 1 : 0;
      const om = digits(b, i + 3 + colon, 2);
      if (oh > 23 || om > 59) return NaN;
      ms -= sign * (oh * 3_600_000 + om * 60_000);
      i += 5 + colon;
    }
  }
  return i === e ? ms : NaN;
}

/** The field's text; `escaped` fields (quoted, with "" inside) get their quotes undoubled. */
export function fieldText(b: Buffer, s: number, e: number, escaped: boolean): string {
  const text = b.toString('utf8', s, e);
  return escaped ? text.replaceAll('""', '"') : text;
}
