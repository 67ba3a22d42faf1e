/**
 * `npm run bench`: tdag against a baseline measured in the same process, printed as ratios
 * (these machines are noisy, so only ratios are meaningful).
 *
 *   persist      run() of a node returning ROWS rows  vs  raw DuckDB appender + upsert
 *   read         getDfBetweenDates of those rows      vs  raw DuckDB query into columns
 *   incremental  nothing-new run and a 1-timestamp append on a BIG table vs on a SMALL table
 *
 *   remote       upload and read of the same rows through `tdag serve` (HTTP on 127.0.0.1)
 *                vs the embedded store doing the same work (rows/s and ratio)
 *
 * Sizes: `--quick` divides every size by 10 (for a smoke run); `--rows N`, `--big N` override;
 * `--skip-remote` leaves out the server run.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DOUBLE, DuckDBDataChunk, DuckDBInstance, DuckDBVector, VARCHAR } from "@duckdb/node-api";
import { z } from "zod";
import {
  Asset,
  configure,
  DataNode,
  DataNodeConfiguration,
  Frame,
  type UpdateContext,
} from "../src/index.js";
import { startPlatformServer } from "../src/server/index.js";
import type { DataStore } from "../src/store/data-store.js";
import { DuckDBStore } from "../src/store/duckdb/index.js";
import { RemoteStore } from "../src/store/remote/index.js";

const args = process.argv.slice(2);
const arg = (name: string): number | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : undefined;
};
const scale = args.includes("--quick") ? 10 : 1;
const ASSETS = 100;
const TIMESTAMPS = Math.round((arg("--rows") ?? 1_000_000) / ASSETS / scale);
const BIG_TIMESTAMPS = Math.round((arg("--big") ?? 10_000_000) / ASSETS / scale);
const SMALL_TIMESTAMPS = 100;
const DAY = 86_400_000_000;
const START = Date.UTC(2000, 0, 1) * 1000;

configure({ logger: { debug() {}, info() {}, warn() {}, error: console.error } });

/** 3 float columns for `timestamps` × ASSETS rows starting at START + offsetDays. */
function makeFrame(timestamps: number, offsetDays = 0): Frame {
  const n = timestamps * ASSETS;
  const time = new Float64Array(n);
  const uid = new Array<string>(n);
  const open = new Float64Array(n);
  const close = new Float64Array(n);
  const volume = new Float64Array(n);
  const names = Array.from({ length: ASSETS }, (_, a) => `A${String(a).padStart(3, "0")}`);
  let i = 0;
  for (let t = 0; t < timestamps; t++) {
    for (let a = 0; a < ASSETS; a++, i++) {
      time[i] = START + (t + offsetDays) * DAY;
      uid[i] = names[a]!;
      open[i] = 100 + Math.sin(i);
      close[i] = 100 + Math.cos(i);
      volume[i] = i % 1000;
    }
  }
  return Frame.fromTypedColumns(
    ["time_index", "unique_identifier"],
    [
      ["time_index", { dtype: "timestamptz", values: time }],
      ["unique_identifier", { dtype: "string", values: uid }],
      ["open", { dtype: "float64", values: open }],
      ["close", { dtype: "float64", values: close }],
      ["volume", { dtype: "float64", values: volume }],
    ],
  );
}

const BenchConfig = DataNodeConfiguration.extend({ label: z.string() });

/** Returns whatever frame the benchmark hands it. */
class BenchPrices extends DataNode<typeof BenchConfig> {
  static override configSchema = BenchConfig;
  static override nodeName = "BenchPrices";
  next: Frame = Frame.empty();
  override update(_context: UpdateContext): Frame {
    return this.next;
  }
}

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const out = await fn();
  return [performance.now() - t0, out];
}

const REPEAT = 3;

/**
 * Times a baseline and a subject alternately (baseline, subject, baseline, ...), REPEAT times
 * each, so both see the same machine load; returns both medians and the last results.
 */
async function paired<A, B>(
  baseline: (i: number) => Promise<A>,
  subject: (i: number) => Promise<B>,
): Promise<{ baselineMs: number; subjectMs: number; baseline: A; subject: B }> {
  const a: number[] = [];
  const b: number[] = [];
  let lastA: A | undefined;
  let lastB: B | undefined;
  for (let i = 0; i < REPEAT; i++) {
    const [ta, outA] = await time(() => baseline(i));
    const [tb, outB] = await time(() => subject(i));
    a.push(ta);
    b.push(tb);
    lastA = outA;
    lastB = outB;
  }
  const mid = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(REPEAT / 2)]!;
  return { baselineMs: mid(a), subjectMs: mid(b), baseline: lastA as A, subject: lastB as B };
}

async function freshStore(dir: string, name: string): Promise<DataStore> {
  const store = await DuckDBStore.open({ path: join(dir, `${name}.duckdb`) });
  configure({ store });
  const names = Array.from({ length: ASSETS }, (_, a) => `A${String(a).padStart(3, "0")}`);
  await Asset.batchGetOrRegisterCustomAssets(
    names.map((uid) => ({ uniqueIdentifier: uid, snapshot: { name: uid, ticker: uid } })),
    { store },
  );
  return store;
}

type Connection = Awaited<ReturnType<DuckDBInstance["connect"]>>;

/** The baseline: what a competent user would write against @duckdb/node-api directly. */
async function rawPersist(c: Connection, frame: Frame): Promise<void> {
  await c.run("DROP TABLE IF EXISTS prices");
  await c.run(
    "CREATE TABLE prices (time_index TIMESTAMPTZ, unique_identifier VARCHAR, open DOUBLE, close DOUBLE, volume DOUBLE, PRIMARY KEY (time_index, unique_identifier))",
  );
  await c.run("BEGIN");
  await c.run(
    "CREATE OR REPLACE TEMP TABLE staging (t DOUBLE, unique_identifier VARCHAR, open DOUBLE, close DOUBLE, volume DOUBLE)",
  );
  const appender = await c.createAppender("staging", "main", "temp");
  const cols = ["time_index", "unique_identifier", "open", "close", "volume"].map(
    (n) => frame.column(n) as ArrayLike<number | string>,
  );
  const chunk = DuckDBDataChunk.create(cols.map((_, k) => (k === 1 ? VARCHAR : DOUBLE)));
  const size = DuckDBVector.standardSize();
  for (let offset = 0; offset < frame.length; offset += size) {
    const n = Math.min(size, frame.length - offset);
    chunk.reset();
    chunk.rowCount = n;
    cols.forEach((src, k) => {
      const v = chunk.getColumnVector(k) as DuckDBVector<number | string>;
      for (let i = 0; i < n; i++) v.setItem(i, src[offset + i]!);
      v.flush();
    });
    appender.appendDataChunk(chunk);
  }
  appender.flushSync();
  appender.closeSync();
  await c.run(
    "INSERT INTO prices SELECT make_timestamptz(CAST(t AS BIGINT)), unique_identifier, open, close, volume FROM staging ON CONFLICT (time_index, unique_identifier) DO UPDATE SET open = excluded.open, close = excluded.close, volume = excluded.volume",
  );
  await c.run("COMMIT");
}

async function rawRead(c: Connection): Promise<number> {
  const result = await c.runAndReadAll(
    "SELECT epoch_us(time_index) AS t, unique_identifier, open, close, volume FROM prices ORDER BY time_index, unique_identifier",
  );
  const columns = result.getColumns();
  return columns[0]!.length;
}

function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}x`;
}

function ms(x: number): string {
  return `${x.toFixed(0)} ms`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tdag-bench-"));
  const lines: string[] = [];
  const report = (line: string) => {
    lines.push(line);
    console.log(line);
  };
  try {
    const frame = makeFrame(TIMESTAMPS);
    report(
      `tdag benchmarks — ${frame.length.toLocaleString("en")} rows (${TIMESTAMPS} timestamps x ${ASSETS} assets, 3 float columns)`,
    );

    // persist: each repetition writes the same rows into a fresh table
    const raw = await DuckDBInstance.create(join(dir, "raw.duckdb"));
    const rawConnection = await raw.connect();
    const stores: DataStore[] = [];
    for (let i = 0; i < REPEAT; i++) stores.push(await freshStore(dir, `persist-${i}`));
    const persist = await paired(
      () => rawPersist(rawConnection, frame),
      async (i) => {
        const node = new BenchPrices({ label: "persist" });
        node.next = frame;
        return { node, run: await node.run({ store: stores[i]! }) };
      },
    );
    const rawMs = persist.baselineMs;
    const runMs = persist.subjectMs;
    const result = persist.subject;
    const written = result.run.nodes.at(-1)?.rowsWritten ?? 0;
    if (written !== frame.length)
      throw new Error(`persist wrote ${written} rows, expected ${frame.length}`);
    report(
      `persist      run() ${ms(runMs)} vs raw appender+upsert ${ms(rawMs)}  ratio ${ratio(runMs, rawMs)} (target <= 1.50)  peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
    );

    // read: every row back into typed columns
    const reads = await paired(
      () => rawRead(rawConnection),
      () => result.node.getDfBetweenDates({}),
    );
    const rawReadMs = reads.baselineMs;
    const readMs = reads.subjectMs;
    const rawRows = reads.baseline;
    const df = reads.subject;
    if (df.length !== rawRows) throw new Error(`read ${df.length} rows, raw read ${rawRows}`);
    report(
      `read         getDfBetweenDates ${ms(readMs)} vs raw query ${ms(rawReadMs)}  ratio ${ratio(readMs, rawReadMs)} (target <= 1.50)`,
    );
    rawConnection.closeSync();
    raw.closeSync();
    for (const store of stores) await store.close();

    // remote: the same run and read through the local platform server over HTTP on 127.0.0.1
    // (gzip+base64 JSON chunks of 50,000 rows, paged JSON reads), against the embedded figures
    if (!args.includes("--skip-remote")) {
      const backing = await freshStore(dir, "remote-backing");
      const server = await startPlatformServer({ store: backing, token: "bench" });
      Object.assign(process.env, server.env);
      const remote = RemoteStore.fromEnv();
      await Asset.batchGetOrRegisterCustomAssets(
        Array.from({ length: ASSETS }, (_, a) => `A${String(a).padStart(3, "0")}`).map((uid) => ({
          uniqueIdentifier: uid,
          snapshot: { name: uid, ticker: uid },
        })),
        { store: remote },
      );
      const remoteNode = new BenchPrices({ label: "remote" });
      remoteNode.next = frame;
      const [uploadMs, uploaded] = await time(() => remoteNode.run({ store: remote }));
      if (uploaded.nodes.at(-1)?.rowsWritten !== frame.length)
        throw new Error("remote upload wrote the wrong row count");
      const [remoteReadMs, remoteDf] = await time(() => remoteNode.getDfBetweenDates({}));
      if (remoteDf.length !== frame.length) throw new Error(`remote read ${remoteDf.length} rows`);
      const perSecond = (ms: number) =>
        `${Math.round((frame.length / ms) * 1000).toLocaleString("en")} rows/s`;
      report(
        `remote       upload via tdag serve ${ms(uploadMs)} (${perSecond(uploadMs)}) vs embedded run() ${ms(runMs)}  ratio ${ratio(uploadMs, runMs)}`,
      );
      report(
        `remote       read via tdag serve ${ms(remoteReadMs)} (${perSecond(remoteReadMs)}) vs embedded read ${ms(readMs)}  ratio ${ratio(remoteReadMs, readMs)}`,
      );
      await remote.close();
      await server.close();
      await backing.close();
    }

    // incremental: the same two runs on a big and a small table, alternated
    const fill = async (label: string, timestamps: number) => {
      const store = await freshStore(dir, label);
      const node = new BenchPrices({ label });
      const chunk = Math.max(1, Math.round(1_000_000 / ASSETS));
      for (let t = 0; t < timestamps; t += chunk) {
        node.next = makeFrame(Math.min(chunk, timestamps - t), t);
        await node.run({ store });
      }
      return { store, node, timestamps };
    };
    type Filled = Awaited<ReturnType<typeof fill>>;
    const nothingNew = (f: Filled) => {
      f.node.next = makeFrame(1, f.timestamps - 1); // already persisted
      return f.node.run({ store: f.store });
    };
    const appendOne = (f: Filled, i: number) => {
      f.node.next = makeFrame(1, f.timestamps + i); // one new timestamp x 100 assets
      return f.node.run({ store: f.store });
    };
    const smallTable = await fill("small", SMALL_TIMESTAMPS);
    const bigTable = await fill("big", BIG_TIMESTAMPS);
    const nothing = await paired(
      () => nothingNew(smallTable),
      () => nothingNew(bigTable),
    );
    const appends = await paired(
      (i) => appendOne(smallTable, i),
      (i) => appendOne(bigTable, i),
    );
    for (const r of [appends.baseline, appends.subject]) {
      if (r.nodes.at(-1)?.rowsWritten !== ASSETS)
        throw new Error("append wrote the wrong row count");
    }
    await smallTable.store.close();
    await bigTable.store.close();
    const small = { nothingMs: nothing.baselineMs, appendMs: appends.baselineMs };
    const big = { nothingMs: nothing.subjectMs, appendMs: appends.subjectMs };
    const bigRows = (BIG_TIMESTAMPS * ASSETS).toLocaleString("en");
    const smallRows = (SMALL_TIMESTAMPS * ASSETS).toLocaleString("en");
    report(
      `incremental  nothing new: ${bigRows}-row table ${ms(big.nothingMs)} vs ${smallRows}-row table ${ms(small.nothingMs)}  ratio ${ratio(big.nothingMs, small.nothingMs)} (target <= 1.50)`,
    );
    report(
      `incremental  append 1x${ASSETS}: ${bigRows}-row table ${ms(big.appendMs)} vs ${smallRows}-row table ${ms(small.appendMs)}  ratio ${ratio(big.appendMs, small.appendMs)} (target <= 1.50)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
