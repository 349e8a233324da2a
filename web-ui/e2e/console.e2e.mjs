// The console in a real browser (Debian's chromium, driven by playwright-core) against a running
// platform: node e2e/console.e2e.mjs <base-url> <token> <pipeline-id> <screenshot-dir>
// Exits 0 when every check passed; prints what failed otherwise.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";

const [base, token, pipeline, shots] = process.argv.slice(2);
if (!base || !token || !pipeline || !shots) {
  console.error("usage: console.e2e.mjs <base-url> <token> <pipeline-id> <screenshot-dir>");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-dev-shm-usage"],
});
const errors = [];
let failed = false;
const check = (ok, what) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failed = true;
};
try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  let expected422 = false;
  page.on("console", (m) => {
    // the editor check submits a bad spec on purpose: its 422 is the one expected failure
    if (m.type() !== "error") return;
    if (expected422 && m.text().includes("status of 422")) return;
    errors.push(`${m.text()} (${m.location()?.url ?? ""})`);
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.setDefaultTimeout(20000);

  // 1. the link `anneal demo` prints: the pipeline, logged in by the token in the fragment; every
  // page runs under the platform's content security policy (a violation is a console error)
  const first = await page.goto(`${base}/#/pipelines/${pipeline}?token=${token}`);
  check(
    (first.headers()["content-security-policy"] ?? "").includes("script-src 'self'"),
    "the console is served with a content security policy",
  );
  await page.getByTestId("stage-pretrain").waitFor();
  check(!page.url().includes("token="), "the token leaves the address bar");
  const graph = await page.getByRole("list", { name: "stages" }).innerText();
  check(/pretrain[\s\S]*succeeded[\s\S]*sft/i.test(graph), "the stage graph shows pretrain (succeeded) then sft");
  check(/1 rollback/.test(graph), "the graph counts the rollback");
  await page.getByText("Evaluation").waitFor();
  await page.getByTestId("download-checkpoint").first().waitFor();
  await page.screenshot({ path: `${shots}/pipeline.png`, fullPage: true });

  // 2. the stage: the loss chart with the rollback drawn on it
  await page.getByTestId("stage-pretrain").getByRole("link").click();
  await page.getByTestId("chart-loss").waitFor();
  await page.getByTestId("chart-loss").locator("canvas").waitFor();
  const marker = page.getByTestId("chart-loss").getByTestId("rollback-marker");
  await marker.first().waitFor();
  check((await marker.first().innerText()).includes("at step"), "the loss chart marks the spike and its step");
  const attempts = await page.locator("table.list").first().innerText();
  check(/rollback/.test(attempts), "the attempts table says why attempt 2 ran");
  await page.getByTestId("log").locator("li").first().waitFor();
  await page.screenshot({ path: `${shots}/stage.png`, fullPage: true });

  // 3. a checkpoint downloads
  await page.goto(`${base}/#/pipelines/${pipeline}`);
  await page.getByTestId("download-checkpoint").first().click();
  const link = page.getByTestId("download-links").locator("a").first();
  await link.waitFor();
  const url = await link.getAttribute("href");
  // the presigned URL works on its own, without the API token (what clicking the link does)
  const res = await page.request.get(url);
  const status = res.status();
  check(status === 200 && (await res.body()).length > 0, `a checkpoint file downloads (HTTP ${status})`);

  // 4. the list, the models and team pages, and the spec editor's error at its line
  await page.goto(`${base}/#/pipelines`);
  await page.getByRole("link", { name: "console-demo" }).first().waitFor();
  await page.screenshot({ path: `${shots}/pipelines.png`, fullPage: true });
  await page.goto(`${base}/#/new`);
  const editor = page.getByLabel("pipeline spec (YAML)");
  await editor.fill((await editor.inputValue()).replace("lr: 0.002", "lr: -1"));
  expected422 = true;
  await page.getByRole("button", { name: "Submit" }).click();
  const err = await page.getByTestId("spec-error").innerText();
  check(/^line 11: .*lr: must be > 0/.test(err), `the editor shows the server's error at its line (${err})`);
  await page.goto(`${base}/#/team`);
  await page.getByText("concurrent pipelines in use").waitFor();
  await page.goto(`${base}/#/models`);
  await page.getByRole("heading", { name: "Models" }).waitFor();

  // 5. a narrow screen still shows the pipeline
  await page.setViewportSize({ width: 420, height: 900 });
  await page.goto(`${base}/#/pipelines/${pipeline}`);
  await page.getByTestId("stage-pretrain").waitFor();
  await page.screenshot({ path: `${shots}/narrow.png`, fullPage: false });

  check(errors.length === 0, `no console errors${errors.length ? ": " + errors.join(" | ") : ""}`);
} catch (e) {
  console.log(`FAIL ${e}`);
  failed = true;
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
