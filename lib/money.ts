/**
 * Money without floats. Platforms send amounts as decimal strings ("199.00", "5339.5"); we add them
 * as scaled integers and print them with the currency's own number of minor digits, so a lifetime
 * value of many orders is exact to the cent.
 */

/** The graph's money shape: a decimal string and an ISO-4217 code. */
export interface Money {
  amount: string;
  currency: string;
}

const SCALE_DIGITS = 6;
const SCALE = 10n ** BigInt(SCALE_DIGITS);
const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;

/** A decimal string as an integer count of millionths. Throws on anything that is not a plain decimal. */
export function parseDecimal(text: string): bigint {
  const match = DECIMAL.exec(text.trim());
  if (!match) throw new RangeError(`not a decimal number: ${JSON.stringify(text)}`);
  const [, sign, whole = '0', fraction = ''] = match;
  if (fraction.length > SCALE_DIGITS && /[1-9]/.test(fraction.slice(SCALE_DIGITS))) {
    throw new RangeError(`more than ${SCALE_DIGITS} decimal places: ${JSON.stringify(text)}`);
  }
  const units = BigInt(whole) * SCALE + BigInt(fraction.slice(0, SCALE_DIGITS).padEnd(SCALE_DIGITS, '0'));
  return sign ? -units : units;
}

export function isDecimal(text: string): boolean {
  return DECIMAL.test(text);
}

const digitsCache = new Map<string, number>();
/** Minor digits of a currency (2 for USD, 0 for JPY, 3 for KWD), from the runtime's ICU data. */
export function currencyDigits(currency: string): number {
  let digits = digitsCache.get(currency);
  if (digits === undefined) {
    try {
      digits =
        new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
          .maximumFractionDigits ?? 2;
    } catch {
      digits = 2;
    }
    digitsCache.set(currency, digits);
  }
  return digits;
}

/** Prints millionths with `digits` decimals, rounding half away from zero. */
export function formatDecimal(units: bigint, digits: number): string {
  const negative = units < 0n;
  let abs = negative ? -units : units;
  const drop = 10n ** BigInt(SCALE_DIGITS - digits);
  abs = (abs + drop / 2n) / drop;
  const base = 10n ** BigInt(digits);
  const whole = abs / base;
  const fraction = digits > 0 ? `.${(abs % base).toString().padStart(digits, '0')}` : '';
  return `${negative && abs !== 0n ? '-' : ''}${whole}${fraction}`;
}

/** A Money value from a platform's decimal string, normalised to the currency's minor digits. */
export function money(amount: string, currency: string): Money {
  const code = currency.toUpperCase();
  return { amount: formatDecimal(parseDecimal(amount), currencyDigits(code)), currency: code };
}

/** Sums amounts of one currency. Returns null when the list mixes currencies: adding them would lie. */
export function sumMoney(values: readonly Money[], currencyIfEmpty: string): Money | null {
  const currency = values[0]?.currency ?? currencyIfEmpty.toUpperCase();
  let total = 0n;
  for (const value of values) {
    if (value.currency !== currency) return null;
    total += parseDecimal(value.amount);
  }
  return { amount: formatDecimal(total, currencyDigits(currency)), currency };
}

/** a / b as a float, or null when b is zero or the currencies differ. */
export function moneyRatio(a: Money, b: Money): number | null {
  if (a.currency !== b.currency) return null;
  const denominator = parseDecimal(b.amount);
  if (denominator === 0n) return null;
  return Number(parseDecimal(a.amount)) / Number(denominator);
}
