import cliProgress from "cli-progress";

/** A progress indicator on stderr; the silent one does nothing. */
export interface Progress {
  /** Starts (or restarts) the bar at `value` of `total`, with a label such as `"nodes"`. */
  start(total: number, label: string, value?: number): void;
  /** Moves the bar forward by `step`. */
  increment(step?: number, detail?: string): void;
  /** Sets the current value (and optionally a new total). */
  update(value: number, total?: number, detail?: string): void;
  /** Removes the bar from the terminal. Safe to call more than once. */
  stop(): void;
  /** Whether anything is drawn at all. */
  readonly visible: boolean;
}

const SILENT: Progress = {
  start() {},
  increment() {},
  update() {},
  stop() {},
  visible: false,
};

/**
 * When progress is drawn: `TDAG_PROGRESS=0` never, `TDAG_PROGRESS=1` always (also into a pipe or
 * a file, one line per redraw), otherwise only when stderr is a terminal. Progress never goes to
 * stdout, so `--json` output stays clean.
 */
export function progressEnabled(
  stream: { readonly isTTY?: boolean } = process.stderr,
  env: Readonly<Record<string, string | undefined>> = process.env,
): "tty" | "forced" | false {
  const setting = (env["TDAG_PROGRESS"] ?? "").trim().toLowerCase();
  if (["0", "false", "no", "off"].includes(setting)) return false;
  if (["1", "true", "yes", "on", "force"].includes(setting)) return stream.isTTY ? "tty" : "forced";
  return stream.isTTY ? "tty" : false;
}

/**
 * A progress bar on stderr (cli-progress), or a silent one when progress is off.
 *
 * @example
 * ```ts
 * const bar = createProgress();
 * bar.start(3, "nodes");
 * bar.increment(1, "Prices");
 * bar.stop();
 * ```
 */
export function createProgress(
  stream: NodeJS.WriteStream = process.stderr,
  mode: "tty" | "forced" | false = progressEnabled(stream),
): Progress {
  if (!mode) return SILENT;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: "{bar} {value}/{total} {label} | {duration_formatted} {detail}",
      barsize: 24,
      hideCursor: mode === "tty",
      clearOnComplete: true,
      stopOnComplete: false,
      noTTYOutput: mode === "forced",
      notTTYSchedule: 250,
      fps: 12,
      linewrap: false,
      formatValue: (value, _options, type) =>
        type === "value" || type === "total"
          ? Math.round(value).toLocaleString("en-US")
          : `${value}`,
    },
    cliProgress.Presets.shades_classic,
  );
  let running = false;
  let label = "";
  return {
    visible: true,
    start(total, newLabel, value = 0) {
      label = newLabel;
      if (running) bar.stop();
      bar.start(Math.max(total, 0), value, { label, detail: "" });
      running = true;
    },
    increment(step = 1, detail = "") {
      if (running) bar.increment(step, { label, detail });
    },
    update(value, total, detail = "") {
      if (!running) return;
      if (total !== undefined) bar.setTotal(Math.max(total, 0));
      bar.update(value, { label, detail });
    },
    stop() {
      if (!running) return;
      running = false;
      bar.stop();
      // In forced (non-TTY) mode cli-progress leaves its last line without a newline.
      if (mode === "forced") stream.write("\n");
    },
  };
}
