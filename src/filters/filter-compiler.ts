import type { ConditionNode, FilterNode, GroupNode } from "./filter-ast.js";

/**
 * The one walk over the filter AST that every target shares (kysely's `OperationNodeVisitor`):
 * groups compile their items first, then combine them. Subclasses say what a condition and a
 * group become: parameterised SQL for a store, the platform's wire JSON for the remote API.
 * Compilation never executes anything, so every target is testable without a store.
 *
 * @example
 * ```ts
 * class FieldLister extends FilterCompiler<string[]> {
 *   protected compileCondition(node: ConditionNode) { return [node.field]; }
 *   protected compileGroup(_: GroupNode, items: string[][]) { return items.flat(); }
 * }
 * new FieldLister().compile(and_(F.eq("a", 1), F.gt("b", 2))); // ["a", "b"]
 * ```
 */
export abstract class FilterCompiler<T> {
  /** Compiles a whole tree. */
  compile(node: FilterNode): T {
    return this.visit(node, "filter");
  }

  /** The path of the node being compiled (`filter.items[0]`), for error messages. */
  protected currentPath = "filter";

  private visit(node: FilterNode, path: string): T {
    if (node.type === "group") {
      const items = node.items.map((item, i) => this.visit(item, `${path}.items[${i}]`));
      this.currentPath = path;
      return this.compileGroup(node, items);
    }
    this.currentPath = path;
    return this.compileCondition(node);
  }

  /** What one condition becomes. */
  protected abstract compileCondition(node: ConditionNode): T;

  /** What a group becomes, given its compiled items (never empty). */
  protected abstract compileGroup(node: GroupNode, items: readonly T[]): T;
}
