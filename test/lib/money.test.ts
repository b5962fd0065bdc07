import { describe, expect, it } from 'vitest';
import { formatDecimal, money, moneyRatio, parseDecimal, sumMoney } from '../../lib/money.js';

describe('money', () => {
  it('should add amounts exactly where floats would drift', () => {
    const tenCents = Array.from({ length: 10 }, () => money('0.10', 'usd'));
    expect(sumMoney(tenCents, 'USD')).toEqual({ amount: '1.00', currency: 'USD' });
    expect([0.1, 0.2].reduce((a, b) => a + b)).not.toBe(0.3);
    expect(sumMoney([money('0.10', 'USD'), money('0.20', 'USD')], 'USD')).toEqual({
      amount: '0.30',
      currency: 'USD',
    });
  });

  it("should print amounts with the currency's minor digits", () => {
    expect(money('5339.5', 'USD')).toEqual({ amount: '5339.50', currency: 'USD' });
    expect(money('1200', 'JPY')).toEqual({ amount: '1200', currency: 'JPY' });
    expect(money('1.2345', 'KWD')).toEqual({ amount: '1.235', currency: 'KWD' });
  });

  it('should refuse to add different currencies', () => {
    expect(sumMoney([money('1', 'USD'), money('1', 'EUR')], 'USD')).toBeNull();
  });

  it('should give an empty sum in the fallback currency', () => {
    expect(sumMoney([], 'eur')).toEqual({ amount: '0.00', currency: 'EUR' });
  });

  it('should divide for ratios and refuse zero denominators', () => {
    expect(moneyRatio(money('300', 'USD'), money('120', 'USD'))).toBe(2.5);
    expect(moneyRatio(money('300', 'USD'), money('0', 'USD'))).toBeNull();
    expect(moneyRatio(money('300', 'USD'), money('1', 'EUR'))).toBeNull();
  });

  it('should reject text that is not a decimal', () => {
    expect(() => parseDecimal('12,50')).toThrow(RangeError);
    expect(() => parseDecimal('1e3')).toThrow(RangeError);
    expect(formatDecimal(parseDecimal('-0.005'), 2)).toBe('-0.01');
  });
});
