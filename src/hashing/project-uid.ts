/** Returns the uid of the project the process works for, or nothing. */
export type ProjectUidResolver = () => string | null | undefined;

let resolver: ProjectUidResolver = () => undefined;

/**
 * Installs the function that tells which project this process belongs to (the reference reads
 * `MAIN_SEQUENCE_PROJECT_UID` and looks the project up). Its uid then enters every `updateHash`
 * as the top-level key `project_uid` (never the storage hash). `null` restores the default
 * resolver, which knows no project.
 *
 * @example
 * ```ts
 * setProjectUidResolver(() => process.env.MAIN_SEQUENCE_PROJECT_UID);
 * ```
 */
export function setProjectUidResolver(next: ProjectUidResolver | null): void {
  resolver = next ?? (() => undefined);
}

/**
 * The current project uid (trimmed), or undefined when no project is known.
 *
 * @example
 * ```ts
 * resolveProjectUid(); // undefined until a resolver is installed
 * ```
 */
export function resolveProjectUid(): string | undefined {
  const uid = resolver()?.trim();
  return uid ? uid : undefined;
}
