/** Turns a text into a vector; the default is the lexical {@link hashedEmbedding}. */
export type Embedder = (text: string) => readonly number[] | Promise<readonly number[]>;

/**
 * How a store embeds search documents and queries.
 *
 * @example
 * ```ts
 * configureSearch({ embedder: (text) => myModel.embed(text), embeddingModel: "my-model-v1" });
 * ```
 */
export interface SearchSettings {
  /** The embedder; default: the lexical hashed n-gram embedder (not a semantic model). */
  readonly embedder?: Embedder;
  /** The embedder's name, stored next to every indexed vector (default `"custom"`). */
  readonly embeddingModel?: string;
}
