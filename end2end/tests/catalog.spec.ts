import * as fs from "node:fs";
import * as path from "node:path";
import { expect, test } from "@playwright/test";
import { ready, signIn } from "./helpers";
import { root, seeded } from "./users";

// Written by real dbt (`dbt parse` of server/tests/fixtures/dbt_sample; make test runs it first).
const manifest = path.join(root, "target/dbt/manifest.json");

test("an admin imports a dbt manifest and sees the impact graph", async ({ page }, info) => {
  test.skip(!fs.existsSync(manifest), "no dbt manifest: run server/scripts/dbt-manifest.sh");
  await signIn(page, info, seeded.admin.username);
  await page.getByRole("link", { name: "Catalog", exact: true }).click();
  await page.getByRole("link", { name: "Import lineage" }).click();
  await ready(page, info);
  await page.getByLabel("File").setInputFiles(manifest);
  await page.getByRole("button", { name: "Import" }).click();
  // The first project creates the components; the second finds them unchanged (idempotent).
  await expect(page.getByRole("status")).toContainText(/Imported the dbt manifest: (12 component\(s\) created|0 component\(s\) created, 0 updated, 12 unchanged)/);

  await page.goto("/catalog?q=raw_orders");
  await page.getByRole("link", { name: "source.rollgate_sample.shop.raw_orders" }).click();
  await page.getByRole("link", { name: "Impact downstream" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Impact of source.rollgate_sample.shop.raw_orders");
  const graph = page.getByRole("img", { name: /Impact of source.rollgate_sample.shop.raw_orders/ });
  await expect(graph).toBeVisible();
  await expect(graph.locator("rect")).toHaveCount(6);
  const row = page.getByRole("row", { name: /exposure.rollgate_sample.finance_dashboard/ });
  await expect(row.getByRole("cell").nth(2)).toHaveText("4");
});

test("a malformed upload is refused with its position and imports nothing", async ({ page }, info) => {
  await signIn(page, info, seeded.admin.username);
  await page.goto("/catalog/import");
  await ready(page, info);
  await page.getByLabel("File").setInputFiles({
    name: "catalog.yaml",
    mimeType: "application/yaml",
    buffer: Buffer.from("components:\n  - name: a\n    kind: tabel\n"),
  });
  await page.getByRole("button", { name: "Import" }).click();
  await expect(page.getByRole("alert")).toContainText("Nothing was imported");
  await expect(page.getByRole("alert")).toContainText("components[0].kind");
  await expect(page.getByRole("alert")).toContainText("line 3");
});

test("an admin adds a connector and its test reports what it found", async ({ page }, info) => {
  const name = `hook-${info.project.name}-${Date.now() % 100000}`;
  await signIn(page, info, seeded.admin.username);
  await page.getByRole("link", { name: "Connectors" }).click();
  await ready(page, info);
  await page.getByRole("textbox", { name: /^Name/ }).fill(name);
  await page.getByLabel("Kind").selectOption("webhook");
  await page.getByLabel("Base URL").fill("http://127.0.0.1:9/rollgate");
  await page.getByLabel("Or store the secret (encrypted)").fill("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  await page.getByRole("button", { name: "Add connector" }).click();
  await expect(page.getByText("Connector saved.")).toBeVisible();
  const card = page.getByRole("article").filter({ has: page.getByRole("heading", { name }) });
  await expect(card).toContainText("stored encrypted");
  await expect(card).not.toContainText("MfKQ9r8");
  await ready(page, info);
  await card.getByRole("button", { name: "Test connection" }).click();
  await expect(card.getByRole("status")).toContainText("Connection problem");
  await expect(card.getByRole("status")).toContainText("Could not reach http://127.0.0.1:9/rollgate");
});
