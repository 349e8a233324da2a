// Screenshots of the console for the docs, from a running platform (e.g. `./anneal demo
// --keep-running`): node e2e/screenshots.mjs "<console link of a pipeline>" <dir>
// Writes pipeline.png, pipelines.png and stage-<name>.png for every stage.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";

const [link, dir] = process.argv.slice(2);
if (!link || !dir) {
  console.error('usage: screenshots.mjs "<console link of a pipeline>" <dir>');
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-dev-shm-usage"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  page.setDefaultTimeout(20000);
  await page.goto(link);
  await page.getByRole("list", { name: "stages" }).waitFor();
  await page.getByTestId("download-checkpoint").first().waitFor();
  const pipelineUrl = page.url();
  await page.screenshot({ path: `${dir}/pipeline.png`, fullPage: true });
  const stages = await page.getByRole("list", { name: "stages" }).locator("strong").allInnerTexts();
  for (const s of stages) {
    await page.goto(`${pipelineUrl}/stages/${s}`);
    await page.locator("figure.chart canvas").first().waitFor();
    await page.waitForTimeout(1500);
    await page.screenshot({ path: `${dir}/stage-${s}.png`, fullPage: true });
    console.log(`stage-${s}.png`);
  }
  await page.goto(new URL("/#/pipelines", pipelineUrl).toString());
  await page.locator("table.list tbody tr").first().waitFor();
  await page.screenshot({ path: `${dir}/pipelines.png` });
} finally {
  await browser.close();
}
