import type { AnyAbility } from '@casl/ability';
import { rulesToAST } from '@casl/ability/extra';
import type { Condition } from '@ucast/mongo2js';

/** A parameterised SQL boolean expression; `$n` placeholders start after `offset`. */
export interface SqlCondition {
  sql: string;
  params: unknown[];
}

export interface FieldMapping {
  column: string;
  /** Array columns (text[]): Mongo semantics, `tags: 'x'` means "contains x". */
  array?: boolean;
  /**
   * The column can be NULL. NOT NULL columns compared with non-null values get plain
   * operators (index-friendly, already two-valued); nullable ones get NULL-safe forms.
   */
  nullable?: boolean;
}

/** Thrown for a rule the translator cannot express: the list fails closed instead of leaking. */
export class UntranslatableRuleError extends Error {
  constructor(detail: string) {
    super(`access rule cannot be translated to SQL: ${detail}`);
    this.name = 'UntranslatableRuleError';
  }
}

interface Ast {
  operator: string;
  value: unknown;
  field?: string;
}

/**
 * Translates the CASL rules for (action, subject) into one SQL condition, so a list is
 * filtered by the database with exactly the policy that guards single access (SPEC §7:
 * one policy, two uses). Every leaf is two-valued (NULL never leaks through NOT).
 * Returns `FALSE` when no rule grants the action.
 */
export function abilityToSql(
  ability: AnyAbility,
  action: string,
  subjectType: string,
  fields: Record<string, FieldMapping>,
  paramOffset = 0,
): SqlCondition {
  const ast = rulesToAST(ability, action, subjectType) as Condition | null;
  if (ast === null) return { sql: 'FALSE', params: [] };
  const params: unknown[] = [];
  const bind = (value: unknown): string => {
    params.push(value);
    return `$${paramOffset + params.length}`;
  };
  return { sql: walk(ast as unknown as Ast, fields, bind), params };
}

function walk(node: Ast, fields: Record<string, FieldMapping>, bind: (v: unknown) => string): string {
  switch (node.operator) {
    case 'and':
    case 'or': {
      const parts = (node.value as Ast[]).map((c) => walk(c, fields, bind));
      if (parts.length === 0) return node.operator === 'and' ? 'TRUE' : 'FALSE';
      return `(${parts.join(node.operator === 'and' ? ' AND ' : ' OR ')})`;
    }
    case 'not': {
      const inner = Array.isArray(node.value) ? (node.value as Ast[]) : [node.value as Ast];
      return `(NOT ${inner.length === 1 ? walk(inner[0], fields, bind) : `(${inner.map((c) => walk(c, fields, bind)).join(' AND ')})`})`;
    }
    default:
      return leaf(node, fields, bind);
  }
}

const COMPARISONS: Record<string, string> = { lt: '<', lte: '<=', gt: '>', gte: '>=' };

function leaf(node: Ast, fields: Record<string, FieldMapping>, bind: (v: unknown) => string): string {
  if (typeof node.field !== 'string') throw new UntranslatableRuleError(`operator ${node.operator} without a field`);
  const mapping = fields[node.field];
  if (!mapping) throw new UntranslatableRuleError(`unknown field ${node.field}`);
  const col = mapping.column;
  const value = node.value;
  if (mapping.array) {
    switch (node.operator) {
      case 'eq':
        return `COALESCE(${bind(value)} = ANY(${col}), FALSE)`;
      case 'ne':
        return `NOT COALESCE(${bind(value)} = ANY(${col}), FALSE)`;
      case 'in':
        return `COALESCE(${col} && ${bind(asArray(value))}::text[], FALSE)`;
      case 'nin':
        return `NOT COALESCE(${col} && ${bind(asArray(value))}::text[], FALSE)`;
      default:
        throw new UntranslatableRuleError(`operator ${node.operator} on array field ${node.field}`);
    }
  }
  if (!mapping.nullable && isPlain(value)) {
    // Both sides are never NULL, so plain SQL comparisons are two-valued already.
    switch (node.operator) {
      case 'eq':
        return `${col} = ${bind(value)}`;
      case 'ne':
        return `${col} <> ${bind(value)}`;
      case 'in':
        return `${col} = ANY(${bind(value)})`;
      case 'nin':
        return `NOT (${col} = ANY(${bind(value)}))`;
      case 'lt':
      case 'lte':
      case 'gt':
      case 'gte':
        return `${col} ${COMPARISONS[node.operator]} ${bind(value)}`;
    }
  }
  switch (node.operator) {
    case 'eq':
      return value === null ? `${col} IS NULL` : `${col} IS NOT DISTINCT FROM ${bind(value)}`;
    case 'ne':
      return value === null ? `${col} IS NOT NULL` : `${col} IS DISTINCT FROM ${bind(value)}`;
    case 'in':
      return `COALESCE(${col} = ANY(${bind(asArray(value))}), FALSE)`;
    case 'nin':
      return `NOT COALESCE(${col} = ANY(${bind(asArray(value))}), FALSE)`;
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte':
      return `COALESCE(${col} ${COMPARISONS[node.operator]} ${bind(value)}, FALSE)`;
    default:
      throw new UntranslatableRuleError(`operator ${node.operator} on ${node.field}`);
  }
}

/** A non-null scalar, or an array of non-null scalars. */
function isPlain(value: unknown): boolean {
  const scalar = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
  return Array.isArray(value) ? value.every(scalar) : scalar(value);
}

function asArray(value: unknown): unknown[] {
  if (!Array.isArray(value)) throw new UntranslatableRuleError('$in/$nin needs an array');
  return value;
}
