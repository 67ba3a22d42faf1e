import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseCommandArgs } from "../../src/cli/command.js";
import { serveCommand } from "../../src/cli/commands/serve.js";
import { EXIT } from "../../src/cli/errors.js";

const root = mkdtempSync(join(tmpdir(), "tdag-serve-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("tdag serve", () => {
  it("prints the client environment, serves until aborted, then closes", async () => {
    let out = "";
    const controller = new AbortController();
    const args = parseCommandArgs(serveCommand, [
      "--port",
      "0",
      "--token",
      "cli-token",
      "--project-uid",
      "22222222-2222-4222-8222-222222222222",
    ]);
    const running = serveCommand.run(
      {
        output: {
          out: (t) => {
            out += t;
          },
          err: () => undefined,
        },
        json: false,
        verbose: false,
        db: join(root, "serve.duckdb"),
        signal: controller.signal,
        createProgress: () => {
          throw new Error("unused");
        },
      },
      args,
    );
    const deadline = Date.now() + 10_000;
    while (!out.includes("TDAG_STORE=remote") && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const env = Object.fromEntries(
      [...out.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]),
    );
    expect(env).toMatchObject({
      MAINSEQUENCE_ACCESS_TOKEN: "cli-token",
      MAIN_SEQUENCE_PROJECT_UID: "22222222-2222-4222-8222-222222222222",
      TDAG_STORE: "remote",
    });
    expect(env["MAINSEQUENCE_ENDPOINT"]).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(
      `${env["MAINSEQUENCE_ENDPOINT"]}/orm/api/pods/projects/22222222-2222-4222-8222-222222222222/`,
      { headers: { Authorization: "Bearer cli-token" } },
    );
    expect(res.status).toBe(200);
    controller.abort();
    expect(await running).toBe(EXIT.ok);
    await expect(fetch(`${env["MAINSEQUENCE_ENDPOINT"]}/`)).rejects.toThrow();
  });

  it("refuses a bad port as a usage error", async () => {
    const args = parseCommandArgs(serveCommand, ["--port", "99999"]);
    await expect(
      serveCommand.run(
        {
          output: { out: () => undefined, err: () => undefined },
          json: false,
          verbose: false,
          db: undefined,
          signal: new AbortController().signal,
          createProgress: () => {
            throw new Error("unused");
          },
        },
        args,
      ),
    ).rejects.toThrow(/--port/);
  });
});
