import { rulesToAST } from "@casl/ability/extra";
import { sql, type RawBuilder } from "kysely";
import type { AppAbility } from "./permissions";

/** A node of the condition tree CASL builds from an ability's rules (`@ucast/mongo2js`'s shape). */
interface ConditionNode {
  operator: string;
  field?: string;
  value: unknown;
}

/**
 * The rows `action` on `subject` reaches, as a SQL condition: CASL flattens the
 * ability's rules into one condition tree and this turns it into SQL. `fields`
 * maps each field the rules may name to its SQL expression; a field or
 * operator it does not know is a programming error and throws. No rule at
 * all reaches nothing.
 */
export function abilityCondition(ability: AppAbility, action: string, subject: string, fields: Record<string, RawBuilder<unknown>>): RawBuilder<boolean> {
  const toSql = (node: ConditionNode): RawBuilder<boolean> => {
    const children = () => (node.value as ConditionNode[]).map(toSql);
    const field = () => {
      const expression = node.field !== undefined ? fields[node.field] : undefined;
      if (!expression) throw new Error(`no SQL for the permission condition field ${node.field}`);
      return expression;
    };
    switch (node.operator) {
      case "and":
        return children().length ? sql<boolean>`(${sql.join(children(), sql` and `)})` : sql<boolean>`true`;
      case "or":
        return children().length ? sql<boolean>`(${sql.join(children(), sql` or `)})` : sql<boolean>`false`;
      case "not":
        return sql<boolean>`not ${toSql(node.value as ConditionNode)}`;
      case "eq":
        return sql<boolean>`(${field()} is not distinct from ${node.value})`;
      case "ne":
        return sql<boolean>`(${field()} is distinct from ${node.value})`;
      default:
        throw new Error(`no SQL for the permission condition operator ${node.operator}`);
    }
  };
  const tree = rulesToAST(ability, action, subject) as ConditionNode | null;
  return tree ? toSql(tree) : sql<boolean>`false`;
}
