// The bench's pure helpers: percentiles, ratios and their formatting, round-robin order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatNumber, formatRatio, linearSlope, percentile, ratio, renderMarkdownTable, renderTable, roundOrder, summarize } from '../../bench/lib/stats.js';

test('percentile uses the nearest rank', () => {
  const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted on purpose
  assert.equal(percentile(xs, 50), 50);
  assert.equal(percentile(xs, 99), 99);
  assert.equal(percentile(xs, 100), 100);
  assert.equal(percentile(xs, 0), 1);
  assert.equal(percentile([7], 99), 7);
  assert.ok(Number.isNaN(percentile([], 50)));
  assert.equal(percentile([1, 2, 3, 4], 50), 2);
});

test('summarize', () => {
  const s = summarize([3, 1, 2]);
  assert.deepEqual([s.n, s.p50, s.min, s.max, s.mean], [3, 2, 1, 3, 2]);
});

test('ratio is undefined without a usable reference', () => {
  assert.equal(ratio(2, 4), 0.5);
  assert.equal(ratio(2, 0), undefined);
  assert.equal(ratio(undefined, 4), undefined);
  assert.equal(ratio(2, NaN), undefined);
});

test('formatRatio and formatNumber', () => {
  assert.equal(formatRatio(0.5234), '0.52x');
  assert.equal(formatRatio(0.0912), '0.091x');
  assert.equal(formatRatio(1.234), '1.23x');
  assert.equal(formatRatio(12.6), '13x');
  assert.equal(formatRatio(undefined), '—');
  assert.equal(formatNumber(4.567), '4.57');
  assert.equal(formatNumber(47.83), '47.8');
  assert.equal(formatNumber(1234.5), '1235');
  assert.equal(formatNumber(0.01234), '0.012');
  assert.equal(formatNumber(0), '0');
  assert.equal(formatNumber(undefined), '—');
  assert.equal(formatNumber(3, 'ms'), '3.00 ms');
});

test('roundOrder rotates', () => {
  assert.deepEqual(roundOrder(['a', 'b', 'c'], 0), ['a', 'b', 'c']);
  assert.deepEqual(roundOrder(['a', 'b', 'c'], 1), ['b', 'c', 'a']);
  assert.deepEqual(roundOrder(['a', 'b', 'c'], 5), ['c', 'a', 'b']);
  assert.deepEqual(roundOrder([], 3), []);
});

test('tables align and escape', () => {
  assert.equal(renderTable([['name', 'v'], ['a', '10'], ['bbb', '2']]), 'name   v\n----  --\na     10\nbbb    2');
  assert.equal(renderMarkdownTable([['a', 'b'], ['x|y', '1']]), '| a | b |\n| --- | ---: |\n| x\\|y | 1 |');
});

test('linearSlope fits a line and reports its standard error', () => {
  const exact = linearSlope([1, 2, 3, 4], [10, 12, 14, 16]);
  assert.equal(exact.slope, 2);
  assert.equal(exact.stderr, 0);
  const noisy = linearSlope([1, 2, 3, 4, 5], [1, 3, 2, 5, 4]);
  assert.ok(Math.abs(noisy.slope - 0.8) < 1e-9);
  assert.ok(noisy.stderr > 0);
  assert.ok(Number.isNaN(linearSlope([1], [1]).slope));
  assert.ok(Number.isNaN(linearSlope([2, 2, 2], [1, 2, 3]).slope));
});
