// The positive rule: a small expression language over a row's numeric columns, e.g.
// `like == 1 || favorite == 1 || play >= 0.9 * videoplayseconds * 1000`.
// Recursive descent with C precedence (unary ! -, * /, + -, comparisons, &&, ||). The parser
// checks everything (syntax, column names) and only then turns the tree into JavaScript that
// `new Function` compiles to a closure over a Float64Array: the rule runs once per row, tens of
// millions of times, so it must not walk a tree.
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
  | { k: 'binary'; op: string; left: Node; right: Node; pos: number };

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

  private or(): Node {
    let left = this.and();
    while (this.isOp('||')) {
      const pos = this.tokens[this.i++].pos;
      left = { k: 'binary', op: '||', left, right: this.and(), pos };
    }
    return left;
  }

  private and(): Node {
    let left = this.comparison();
    while (this.isOp('&&')) {
      const pos = this.tokens[this.i++].pos;
      left = { k: 'binary', op: '&&', left, right: this.comparison(), pos };
    }
    return left;
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
    let left = this.product();
    while (this.isOp('+') || this.isOp('-')) {
      const t = this.tokens[this.i++];
      left = { k: 'binary', op: t.text, left, right: this.product(), pos: t.pos };
    }
    return left;
  }

  private product(): Node {
    let left = this.unary();
    while (this.isOp('*') || this.isOp('/')) {
      const t = this.tokens[this.i++];
      left = { k: 'binary', op: t.text, left, right: this.unary(), pos: t.pos };
    }
    return left;
  }

  private unary(): Node {
    if (this.isOp('!') || this.isOp('-')) {
      const t = this.tokens[this.i++];
      return { k: 'unary', op: t.text as '!' | '-', arg: this.unary(), pos: t.pos };
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
        const inner = this.or();
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
function emit(node: Node, want: Type, slot: (name: string) => number): string {
  const [code, type] = emitNatural(node, slot);
  if (type === want) return code;
  return want === 'num' ? `(+${code})` : `(!!${code})`;
}

function emitNatural(node: Node, slot: (name: string) => number): [string, Type] {
  switch (node.k) {
    case 'num':
      return [`(${JSON.stringify(node.value)})`, 'num'];
    case 'bool':
      return [String(node.value), 'bool'];
    case 'col':
      return [`r[${slot(node.name)}]`, 'num'];
    case 'unary':
      return node.op === '!' ? [`(!${emit(node.arg, 'bool', slot)})`, 'bool'] : [`(-${emit(node.arg, 'num', slot)})`, 'num'];
    case 'binary': {
      if (node.op === '||' || node.op === '&&') {
        return [`(${emit(node.left, 'bool', slot)} ${node.op} ${emit(node.right, 'bool', slot)})`, 'bool'];
      }
      // == and != compare numbers: JS's === on two numbers is the same test, without coercion.
      const op = node.op === '==' ? '===' : node.op === '!=' ? '!==' : node.op;
      const code = `(${emit(node.left, 'num', slot)} ${op} ${emit(node.right, 'num', slot)})`;
      return [code, COMPARISONS.has(node.op) ? 'bool' : 'num'];
    }
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

/** Parses and validates `rule`, then compiles it to a closure over a row of the referenced columns. */
export function compileRule(rule: string, columns: readonly string[]): CompiledRule {
  const ast = parse(rule, columns);
  const used: string[] = [];
  const slot = (name: string): number => {
    let i = used.indexOf(name);
    if (i < 0) i = used.push(name) - 1;
    return i;
  };
  const body = emit(ast, 'bool', slot);
  // Safe: `body` only holds numbers, `r[i]`, operators and parentheses the parser produced.
  const test = new Function('r', `"use strict"; return ${body};`) as (row: Float64Array) => boolean;
  return { rule, columns: used, test };
}
