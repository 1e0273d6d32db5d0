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

/**
 * Numbers below 1e11 are read as seconds (1e11 s is the year 5138, 1e11 ms is 1973), decided
 * once from the first value so a column is never half seconds, half milliseconds.
 */
export function detectTimeFormat(text: string): TimeFormat | undefined {
  const b = Buffer.from(text, 'utf8');
  const v = parseNumber(b, 0, b.length);
  if (!Number.isNaN(v)) return Math.abs(v) < 1e11 ? 'epoch-s' : 'epoch-ms';
  return Number.isNaN(parseIsoMs(b, 0, b.length)) ? undefined : 'iso';
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
