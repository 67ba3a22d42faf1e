/**
 * Entry points for the `tdag` CLI: each export is a factory returning a node, so
 * `tdag run examples/nodes.ts --export prices --namespace try1` can build it inside a namespace.
 *
 *   npx tdag plan examples/nodes.ts --export prices
 *   npx tdag run examples/nodes.ts --export prices
 *   npx tdag run examples/nodes.ts              # the default export
 */
import { DailyRandomAddition, SimulatedPrices, today } from "./tutorial-nodes.js";

const offsetStart = () => new Date(today().getTime() - 30 * 86_400_000);

/** Simulated daily closes of three tech assets (2-D table, update-only universe). */
export const prices = () =>
  new SimulatedPrices({ asset_universe: ["NVDA", "AAPL", "MSFT"], offset_start: offsetStart() });

/** DailyRandomAddition and, through dependencies(), its DailyRandomNumber. */
export default () => new DailyRandomAddition({ mean: 0.5, std: 1, offset_start: offsetStart() });
