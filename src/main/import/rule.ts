// The positive rule: a small expression language over a row's numeric columns, e.g.
// `like == 1 || favorite == 1 || play >= 0.9 * videoplayseconds * 1000`.
// Recursive descent with C precedence (unary ! -, * /, + -, comparisons, &&, ||). The parser
// checks everything (syntax, column names, a literal division by zero) and only then turns the
// tree into JavaScript that `new Function` compiles to a closure over a Float64Array: the rule
// runs once per row, tens of millions of times, so it must not walk a tree.
// Left-associative runs (`a || b || ...`, `a + b - c ...`) are parsed in a loop into one n-ary
// node and emitted flat, so a 20,000-term id allow-list neither recurses in the parser nor nests
// in the generated code; only parentheses and unary operators nest, up to MAX_DEPTH.
import type { RuleCheck } from '../../shared/api.ts';
import { RuleError } from './errors.ts';

type TokenKind = 'num' | 'ident' | 'op' | '(' | ')' | 'end';
interface Token {
  kind: TokenKind;
  text: string;
  /** 1-based character position in the rule. */
  pos: number;
}

type Type = 'num' | 'bool';
type Node =
  | { k: 'num'; value: number; pos: number }
  | { k: 'bool'; value: boolean; pos: number }
  | { k: 'col'; name: string; pos: number }
  | { k: 'unary'; op: '!' | '-'; arg: Node; pos: number }
  | { k: 'binary'; op: string; left: Node; right: Node; pos: number }
  /** args[0] ops[0] args[1] ops[1] ... evaluated left to right; one precedence level. */
  | { k: 'chain'; ops: string[]; args: Node[]; pos: number };

/** Nesting (parentheses, unary operators) allowed: far beyond any real rule, far below the stack. */
export const MAX_DEPTH = 200;

const OPERATORS = ['||', '&&', '==', '!=', '<=', '>=', '<', '>', '+', '-', '*', '/', '!'];
const COMPARISONS = new Set(['==', '!=', '<', '<=', '>', '>=']);

const NUMBER = /(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y;
const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;

function match(re: RegExp, src: string, at: number): string | undefined {
  re.lastIndex = at;
  return re.exec(src)?.[0];
}

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    const pos = i + 1;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const num = match(NUMBER, src, i);
    if (num) {
      if (match(IDENT, src, i + num.length)) throw new RuleError(pos, `bad number '${num}${src[i + num.length]}…'`);
      tokens.push({ kind: 'num', text: num, pos });
      i += num.length;
      continue;
    }
    const ident = match(IDENT, src, i);
    if (ident) {
      tokens.push({ kind: 'ident', text: ident, pos });
      i += ident.length;
      continue;
    }
    if (c === '`') {
      // Backticks quote column names that are not plain identifiers (spaces, dashes, dots).
      const end = src.indexOf('`', i + 1);
      if (end < 0) throw new RuleError(pos, 'unterminated `quoted` column name');
      if (end === i + 1) throw new RuleError(pos, 'empty `quoted` column name');
      tokens.push({ kind: 'ident', text: src.slice(i + 1, end), pos });
      i = end + 1;
      continue;
    }
    if (c === '(' || c === ')') {
      tokens.push({ kind: c, text: c, pos });
      i++;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (op) {
      tokens.push({ kind: 'op', text: op, pos });
      i += op.length;
      continue;
    }
    const hint = c === '=' ? " (use '==' to compare)" : c === '|' ? " (use '||')" : c === '&' ? " (use '&&')" : '';
    throw new RuleError(pos, `unexpected character '${c}'${hint}`);
  }
  tokens.push({ kind: 'end', text: '', pos: src.length + 1 });
  return tokens;
}

class Parser {
  private i = 0;
  private depth = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly columns: ReadonlySet<string>,
  ) {}

  parse(): Node {
    if (this.peek().kind === 'end') throw new RuleError(1, 'the rule is empty');
    const node = this.or();
    const t = this.peek();
    if (t.kind !== 'end') throw new RuleError(t.pos, `unexpected '${t.text}' after a complete expression`);
    return node;
  }

  private peek(): Token {
    return this.tokens[this.i];
  }
  private isOp(text: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.text === text;
  }

  /** One left-associative precedence level, parsed in a loop into a flat chain. */
  private chain(ops: readonly string[], next: () => Node): Node {
    const first = next();
    const t0 = this.peek();
    if (t0.kind !== 'op' || !ops.includes(t0.text)) return first;
    const node: Node & { k: 'chain' } = { k: 'chain', ops: [], args: [first], pos: t0.pos };
    for (let t = this.peek(); t.kind === 'op' && ops.includes(t.text); t = this.peek()) {
      this.i++;
      const arg = next();
      if (t.text === '/' && constValue(arg) === 0) {
        throw new RuleError(t.pos, 'division by zero: the divisor is always 0');
      }
      node.ops.push(t.text);
      node.args.push(arg);
    }
    return node;
  }

  private or(): Node {
    return this.chain(['||'], () => this.and());
  }

  private and(): Node {
    return this.chain(['&&'], () => this.comparison());
  }

  private comparison(): Node {
    const left = this.sum();
    const t = this.peek();
    if (t.kind !== 'op' || !COMPARISONS.has(t.text)) return left;
    this.i++;
    const node: Node = { k: 'binary', op: t.text, left, right: this.sum(), pos: t.pos };
    const next = this.peek();
    if (next.kind === 'op' && COMPARISONS.has(next.text)) {
      throw new RuleError(next.pos, "comparisons cannot be chained; join them with '&&'");
    }
    return node;
  }

  private sum(): Node {
    return this.chain(['+', '-'], () => this.product());
  }

  private product(): Node {
    return this.chain(['*', '/'], () => this.unary());
  }

  /** Enters one level of nesting at token `t`; the parser recurses only here. */
  private nest(t: Token): void {
    if (++this.depth > MAX_DEPTH) throw new RuleError(t.pos, `the rule nests deeper than ${MAX_DEPTH} levels (parentheses or unary operators)`);
  }

  private unary(): Node {
    if (this.isOp('!') || this.isOp('-')) {
      const t = this.tokens[this.i++];
      this.nest(t);
      const arg = this.unary();
      this.depth--;
      return { k: 'unary', op: t.text as '!' | '-', arg, pos: t.pos };
    }
    return this.atom();
  }

  private atom(): Node {
    const t = this.peek();
    switch (t.kind) {
      case 'num': {
        this.i++;
        const value = Number(t.text);
        if (!Number.isFinite(value)) throw new RuleError(t.pos, `number '${t.text}' is out of range`);
        return { k: 'num', value, pos: t.pos };
      }
      case 'ident': {
        this.i++;
        if (t.text === 'true' || t.text === 'false') return { k: 'bool', value: t.text === 'true', pos: t.pos };
        if (!this.columns.has(t.text)) throw new RuleError(t.pos, unknownColumn(t.text, this.columns));
        return { k: 'col', name: t.text, pos: t.pos };
      }
      case '(': {
        this.i++;
        this.nest(t);
        const inner = this.or();
        this.depth--;
        const close = this.peek();
        if (close.kind !== ')') {
          throw new RuleError(close.pos, close.kind === 'end' ? "missing ')'" : `expected ')', got '${close.text}'`);
        }
        this.i++;
        return inner;
      }
      case 'end':
        throw new RuleError(t.pos, 'the rule ends where a value was expected');
      default:
        throw new RuleError(t.pos, `expected a number, a column or '(', got '${t.text}'`);
    }
  }
}

/** The value of a subtree without columns (as the compiled rule computes it), else undefined. */
function constValue(node: Node): number | undefined {
  switch (node.k) {
    case 'num':
      return node.value;
    case 'bool':
      return node.value ? 1 : 0;
    case 'col':
      return undefined;
    case 'unary': {
      const v = constValue(node.arg);
      if (v === undefined) return undefined;
      return node.op === '-' ? -v : v !== 0 && v === v ? 0 : 1;
    }
    case 'binary': {
      const a = constValue(node.left);
      const b = constValue(node.right);
      if (a === undefined || b === undefined) return undefined;
      const ops: Record<string, boolean> = { '==': a === b, '!=': a !== b, '<': a < b, '<=': a <= b, '>': a > b, '>=': a >= b };
      return ops[node.op] ? 1 : 0;
    }
    case 'chain': {
      const vs = node.args.map(constValue);
      if (vs.some((v) => v === undefined)) return undefined;
      const nums = vs as number[];
      if (node.ops[0] === '||' || node.ops[0] === '&&') {
        const truth = nums.map((v) => v !== 0 && v === v);
        return (node.ops[0] === '||' ? truth.some(Boolean) : truth.every(Boolean)) ? 1 : 0;
      }
      let acc = nums[0];
      node.ops.forEach((op, i) => {
        const v = nums[i + 1];
        acc = op === '+' ? acc + v : op === '-' ? acc - v : op === '*' ? acc * v : acc / v;
      });
      return acc;
    }
  }
}

function unknownColumn(name: string, columns: ReadonlySet<string>): string {
  const all = [...columns];
  const close = all.find((c) => c.toLowerCase() === name.toLowerCase()) ?? all.find((c) => editDistance(c, name) <= 2);
  const listed = all.length <= 24 ? all.join(', ') : `${all.slice(0, 24).join(', ')}, …`;
  return `unknown column '${name}'${close ? ` (did you mean '${close}'?)` : ''}; columns: ${listed}`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/**
 * JavaScript for a node, in the wanted type. Booleans used as numbers count as 0/1 (so
 * `(like == 1) + (follow == 1) >= 2` works); numbers used as conditions are true when non-zero
 * and not missing (`!!x`: 0 and NaN are falsy).
 */
interface EmitContext {
  slot: (name: string) => number;
  /** Temporaries for mixed arithmetic chains (t0, t1, ...). */
  temps: number;
}

function emit(node: Node, want: Type, cx: EmitContext): string {
  const [code, type] = emitNatural(node, cx);
  if (type === want) return code;
  return want === 'num' ? `(+${code})` : `(!!${code})`;
}

/**
 * A chain in JavaScript. V8 keeps `a || b || ...` and `a + b + ...` (one operator repeated) flat,
 * but nests `a + b - c ...` one level per operator, which overflows its stack at a few thousand
 * terms; mixed chains therefore go through a temporary: `(t = a, t = t + b, t = t - c, t)`.
 */
function emitChain(node: Node & { k: 'chain' }, cx: EmitContext): [string, Type] {
  const logical = node.ops[0] === '||' || node.ops[0] === '&&';
  const args = node.args.map((a) => emit(a, logical ? 'bool' : 'num', cx));
  if (node.ops.every((op) => op === node.ops[0])) return [`(${args.join(` ${node.ops[0]} `)})`, logical ? 'bool' : 'num'];
  const t = `t${cx.temps++}`;
  const steps = node.ops.map((op, i) => `${t} = ${t} ${op} ${args[i + 1]}`);
  return [`(${t} = ${args[0]}, ${steps.join(', ')}, ${t})`, 'num'];
}

function emitNatural(node: Node, cx: EmitContext): [string, Type] {
  switch (node.k) {
    case 'num':
      return [`(${JSON.stringify(node.value)})`, 'num'];
    case 'bool':
      return [String(node.value), 'bool'];
    case 'col':
      return [`r[${cx.slot(node.name)}]`, 'num'];
    case 'unary':
      return node.op === '!' ? [`(!${emit(node.arg, 'bool', cx)})`, 'bool'] : [`(-${emit(node.arg, 'num', cx)})`, 'num'];
    case 'binary': {
      // == and != compare numbers: JS's === on two numbers is the same test, without coercion.
      const op = node.op === '==' ? '===' : node.op === '!=' ? '!==' : node.op;
      return [`(${emit(node.left, 'num', cx)} ${op} ${emit(node.right, 'num', cx)})`, 'bool'];
    }
    case 'chain':
      return emitChain(node, cx);
  }
}

export interface CompiledRule {
  /** The rule's text, as given. */
  rule: string;
  /** Columns the rule reads, in slot order: `test(row)` expects row[i] = value of columns[i]. */
  columns: string[];
  /** True when the row is a positive interaction. Missing values are NaN. */
  test: (row: Float64Array) => boolean;
}

function parse(rule: string, columns: readonly string[]): Node {
  return new Parser(tokenize(rule), new Set(columns)).parse();
}

/** The column names a rule mentions (it must tokenize), in order of first mention. */
export function ruleColumns(rule: string): string[] {
  const names = tokenize(rule)
    .filter((t) => t.kind === 'ident' && t.text !== 'true' && t.text !== 'false')
    .map((t) => t.text);
  return [...new Set(names)];
}

/** Throws a RuleError (with the character position in the rule) unless `rule` is valid over `columns`. */
export function validateRule(rule: string, columns: string[]): void {
  parse(rule, columns);
}

/** validateRule as an answer for the wizard: ok, or the reason and where in the rule. */
export function checkRule(rule: string, columns: string[]): RuleCheck {
  try {
    validateRule(rule, columns);
    return { ok: true };
  } catch (err) {
    if (err instanceof RuleError) return { ok: false, message: err.reason, column: err.column };
    throw err;
  }
}

/** Parses and validates `rule`, then compiles it to a closure over a row of the referenced columns. */
export function compileRule(rule: string, columns: readonly string[]): CompiledRule {
  const ast = parse(rule, columns);
  const used: string[] = [];
  const slot = (name: string): number => {
    let i = used.indexOf(name);
    if (i < 0) i = used.push(name) - 1;
    return i;
  };
  const cx: EmitContext = { slot, temps: 0 };
  const body = emit(ast, 'bool', cx);
  const temps = Array.from({ length: cx.temps }, (_, i) => `t${i}`);
  const decl = temps.length > 0 ? `let ${temps.join(', ')}; ` : '';
  // Safe: `body` only holds numbers, `r[i]`, temporaries, operators and parentheses the parser produced.
  const test = new Function('r', `"use strict"; ${decl}return ${body};`) as (row: Float64Array) => boolean;
  return { rule, columns: used, test };
}
