import { HASHED_EMBEDDING_MODEL, hashedEmbedding } from "./hashed-embedder.js";
import { SearchError } from "./search-error.js";
import type { SearchSettings } from "./search-types.js";

/** The embedder a search uses, resolved from the store's and the global settings. */
export interface ActiveEmbedder {
  /** The name stored next to every vector it makes. */
  readonly model: string;
  /** Embeds a text and checks the result is a non-empty list of finite numbers. */
  embed(text: string): Promise<number[]>;
}

let globalSettings: SearchSettings = {};

/**
 * Sets the embedder every store uses for description search, unless a store has its own
 * (`DuckDBStore#configureSearch`). `configureSearch({})` restores the default lexical hashed
 * n-gram embedder. Vectors indexed under another model name are re-embedded from their stored
 * document at query time; `refreshTableSearchIndex` stores the new vectors.
 *
 * @example
 * ```ts
 * import { configureSearch } from "tdag";
 * configureSearch({ embedder: async (text) => await myModel.embed(text), embeddingModel: "my-model-v1" });
 * ```
 */
export function configureSearch(settings: SearchSettings): void {
  globalSettings = checkSettings(settings);
}

/** Checks a settings object (an embedder must be a function, a model name a non-empty string). */
export function checkSettings(settings: SearchSettings): SearchSettings {
  if (settings.embedder !== undefined && typeof settings.embedder !== "function") {
    throw new SearchError("invalid_search_option", "embedder must be a function text => number[]");
  }
  if (
    settings.embeddingModel !== undefined &&
    (typeof settings.embeddingModel !== "string" || settings.embeddingModel.trim() === "")
  ) {
    throw new SearchError("invalid_search_option", "embeddingModel must be a non-empty string");
  }
  return { ...settings };
}

/**
 * The embedder in force: the store's settings when they name an embedder, else the global ones,
 * else the default hashed embedder (model {@link HASHED_EMBEDDING_MODEL}).
 */
export function resolveEmbedder(storeSettings: SearchSettings = {}): ActiveEmbedder {
  const settings = storeSettings.embedder ? storeSettings : globalSettings;
  const embedder = settings.embedder;
  if (!embedder) return { model: HASHED_EMBEDDING_MODEL, embed: async (t) => hashedEmbedding(t) };
  const model = settings.embeddingModel ?? "custom";
  return {
    model,
    async embed(text) {
      const vector = await embedder(text);
      return checkVector(vector, `the embedder of model '${model}'`);
    },
  };
}

/**
 * Checks that `requested` (`"default"` or a model name) names the embedder in force.
 */
export function checkEmbeddingModel(requested: string, active: ActiveEmbedder): void {
  if (requested === "default" || requested === active.model) return;
  throw new SearchError(
    "unknown_embedding_model",
    `embedding_model '${requested}' is not available: this store embeds with '${active.model}' (use "default" or that name)`,
  );
}

/** A vector as a plain array, or `invalid_embedding`. */
export function checkVector(vector: unknown, what: string): number[] {
  if (
    !Array.isArray(vector) ||
    vector.length === 0 ||
    !vector.every((x) => typeof x === "number" && Number.isFinite(x))
  ) {
    throw new SearchError(
      "invalid_embedding",
      `${what} must return a non-empty array of finite numbers`,
    );
  }
  return [...(vector as number[])];
}
