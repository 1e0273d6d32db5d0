import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRule, validateRule } from '../../src/main/import/rule.ts';
import { RuleError } from '../../src/main/import/errors.ts';

const COLS = ['like', 'favorite', 'play', 'videoplayseconds', 'follow', 'play time'];

function evalRule(rule: string, values: Record<string, number>): boolean {
  const c = compileRule(rule, COLS);
  return c.test(Float64Array.from(c.columns.map((n) => values[n])));
}

function ruleError(rule: string, columns = COLS): RuleError {
  try {
    validateRule(rule, columns);
  } catch (err) {
    assert.ok(err instanceof RuleError, `expected RuleError, got ${String(err)}`);
    return err;
  }
  assert.fail(`rule ${JSON.stringify(rule)} was accepted`);
}

test('the WeChat-style rule agrees with a hand-written predicate on random rows', () => {
  const rule = 'like == 1 || favorite == 1 || play >= 0.9 * videoplayseconds * 1000';
  const c = compileRule(rule, COLS);
  assert.deepEqual(c.columns, ['like', 'favorite', 'play', 'videoplayseconds']);
  let state = 12345;
  const rand = (): number => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  let positives = 0;
  for (let n = 0; n < 5000; n++) {
    const v = { like: rand() < 0.1 ? 1 : 0, favorite: rand() < 0.05 ? 1 : 0, play: Math.floor(rand() * 60000), videoplayseconds: 1 + Math.floor(rand() * 60) };
    const expected = v.like === 1 || v.favorite === 1 || v.play >= 0.9 * v.videoplayseconds * 1000;
    const got = c.test(Float64Array.of(v.like, v.favorite, v.play, v.videoplayseconds));
    assert.equal(got, expected);
    if (got) positives++;
  }
  assert.ok(positives > 500 && positives < 4500, 'the sample exercises both outcomes');
});

test('precedence: && binds tighter than ||, * tighter than +, unary minus and !', () => {
  assert.equal(evalRule('like == 1 || favorite == 1 && follow == 1', { like: 1, favorite: 0, follow: 0 }), true);
  assert.equal(evalRule('(like == 1 || favorite == 1) && follow == 1', { like: 1, favorite: 0, follow: 0 }), false);
  assert.equal(evalRule('play == 2 + 3 * 4', { play: 14 }), true);
  assert.equal(evalRule('play == (2 + 3) * 4', { play: 20 }), true);
  assert.equal(evalRule('play - 10 - 5 == 0', { play: 15 }), true);
  assert.equal(evalRule('play / 2 / 5 == 1', { play: 10 }), true);
  assert.equal(evalRule('-play < -5', { play: 6 }), true);
  assert.equal(evalRule('!(like == 1)', { like: 0 }), true);
  assert.equal(evalRule('!(like == 1) && !(favorite == 1)', { like: 0, favorite: 1 }), false);
  assert.equal(evalRule('play >= 1.5e3', { play: 1500 }), true);
  assert.equal(evalRule('play != 3', { play: 4 }), true);
  assert.equal(evalRule('play <= 3 && play > 2', { play: 3 }), true);
  assert.equal(evalRule('true', {}), true);
  assert.equal(evalRule('false || like == 1', { like: 0 }), false);
});

test('numbers as conditions and conditions as numbers', () => {
  assert.equal(evalRule('like || favorite', { like: 0, favorite: 2 }), true);
  assert.equal(evalRule('like || favorite', { like: 0, favorite: 0 }), false);
  assert.equal(evalRule('(like == 1) + (follow == 1) + (favorite == 1) >= 2', { like: 1, follow: 0, favorite: 1 }), true);
  assert.equal(evalRule('(like == 1) + (follow == 1) + (favorite == 1) >= 2', { like: 1, follow: 0, favorite: 0 }), false);
});

test('missing values (NaN) make comparisons false, except !=', () => {
  assert.equal(evalRule('play >= 0', { play: NaN }), false);
  assert.equal(evalRule('play == 0', { play: NaN }), false);
  assert.equal(evalRule('play != 0', { play: NaN }), true);
  assert.equal(evalRule('play', { play: NaN }), false);
});

test('backtick-quoted column names', () => {
  assert.equal(evalRule('`play time` > 3', { 'play time': 4 }), true);
});

test('errors carry the character position in the rule', () => {
  const cases: Array<[string, number, RegExp]> = [
    ['lik == 1', 1, /unknown column 'lik' \(did you mean 'like'\?\)/],
    ['like == 1 || Favorite == 1', 14, /did you mean 'favorite'/],
    ['like = 1', 6, /use '=='/],
    ['like == 1 | favorite == 1', 11, /use '\|\|'/],
    ['like == 1 & favorite == 1', 11, /use '&&'/],
    ['(like == 1', 11, /missing '\)'/],
    ['like == 1)', 10, /unexpected '\)'/],
    ['like ==', 8, /ends where a value was expected/],
    ['', 1, /empty/],
    ['   ', 1, /empty/],
    ['like == 1 favorite', 11, /unexpected 'favorite'/],
    ['1 < play < 3', 10, /cannot be chained/],
    ['like == 2x', 9, /bad number/],
    ['like == #', 9, /unexpected character '#'/],
    ['`play', 1, /unterminated/],
    ['like == * 2', 9, /got '\*'/],
    ['1e999 > play', 1, /out of range/],
  ];
  for (const [rule, column, message] of cases) {
    const err = ruleError(rule);
    assert.equal(err.column, column, `column for ${JSON.stringify(rule)}: ${err.message}`);
    assert.equal(err.line, 1);
    assert.match(err.message, message);
    assert.match(err.message, new RegExp(`^positive rule:1:${column}: character ${column}: `));
  }
});

test('validation happens against the given columns only', () => {
  assert.doesNotThrow(() => validateRule('label == 1', ['user_id', 'label']));
  assert.equal(ruleError('label == 1', ['user_id']).column, 1);
});

test('a flat 20,000-term allow-list parses, compiles and evaluates', () => {
  const ids = Array.from({ length: 20_000 }, (_, i) => i * 7 + 3);
  const allow = ids.map((id) => `play == ${id}`).join(' || ');
  const c = compileRule(allow, COLS);
  assert.ok(c.test(Float64Array.of(ids[19_999])), 'the last id is allowed');
  assert.ok(c.test(Float64Array.of(ids[0])), 'the first id is allowed');
  assert.ok(!c.test(Float64Array.of(4)), 'an id not in the list is not');
  const deny = ids.map((id) => `play != ${id}`).join(' && ');
  assert.ok(compileRule(deny, COLS).test(Float64Array.of(4)), 'a 20,000-term && chain');
  assert.ok(!compileRule(deny, COLS).test(Float64Array.of(ids[12_345])), 'a 20,000-term && chain rejects a listed id');
});

test('long arithmetic chains, mixed operators included, keep left-to-right order', () => {
  const n = 20_000;
  // play - like + like - like ... : alternating operators must not nest in the generated code.
  const mixed = ['play', ...Array.from({ length: n }, (_, i) => `${i % 2 ? '+' : '-'} like`)].join(' ');
  assert.ok(evalRule(`${mixed} == play`, { play: 5, like: 1 }), 'alternating + and - cancel out');
  const sum = Array.from({ length: n }, () => 'like').join(' + ');
  assert.ok(evalRule(`${sum} == ${n}`, { like: 1 }), 'a 20,000-term sum');
  // Left to right: ((8 / 2) * 4) / 8 = 2, then 2 - 1 + 3 = 4 (right to left would give 0.5 - 1 + 3).
  assert.ok(evalRule('play / 2 * 4 / 8 - 1 + 3 == 4', { play: 8 }), 'mixed * / + - in order');
  const muldiv = ['play', ...Array.from({ length: n }, (_, i) => `${i % 2 ? '*' : '/'} favorite`)].join(' ');
  assert.ok(evalRule(`${muldiv} == play`, { play: 6, favorite: 2 }), 'alternating / and * cancel out');
});

test('deep nesting is a positioned error, not a stack overflow', () => {
  for (const [rule, what] of [
    ['('.repeat(10_000) + 'like' + ')'.repeat(10_000), 'parentheses'],
    ['!'.repeat(10_000) + 'like', 'negations'],
    ['- '.repeat(10_000) + 'like > 0', 'unary minus'],
  ] as const) {
    const err = ruleError(rule);
    assert.match(err.message, /nests deeper than 200 levels/, what);
    assert.ok(err.column > 1 && err.column <= rule.length, `${what}: a position inside the rule (${err.column})`);
  }
  assert.doesNotThrow(() => validateRule('('.repeat(150) + 'like' + ')'.repeat(150), COLS), '150 levels are fine');
});

test('a literal division by zero is rejected at its position; a runtime one follows IEEE', () => {
  for (const [rule, column] of [
    ['play / 0 > 1', 6],
    ['like == 1 || play / (2 - 2) > 1', 19],
    ['play / -0.0 < 1', 6],
    ['play * 2 / false > 1', 10],
  ] as const) {
    const err = ruleError(rule);
    assert.match(err.message, /division by zero/, rule);
    assert.equal(err.column, column, `${rule}: ${err.message}`);
  }
  // A column that happens to be 0: x / 0 is ±Infinity, 0 / 0 is NaN (false in every comparison but !=).
  assert.equal(evalRule('play / like > 1000', { play: 5, like: 0 }), true);
  assert.equal(evalRule('-play / like < -1000', { play: 5, like: 0 }), true);
  assert.equal(evalRule('play / like >= 0', { play: 0, like: 0 }), false);
  assert.equal(evalRule('play / like != 0', { play: 0, like: 0 }), true);
  assert.doesNotThrow(() => validateRule('play / (2 - 1) > 1', COLS), 'a constant non-zero divisor is fine');
});
