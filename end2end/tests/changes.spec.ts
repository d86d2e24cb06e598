import { expect, test } from "@playwright/test";
import { addComponent, ready, signIn, unique } from "./helpers";
import { seeded } from "./users";

test("a requester records a change with two affected components", async ({ page }, info) => {
  const orders = unique(info, "analytics.orders");
  const revenue = unique(info, "analytics.revenue");
  const title = unique(info, "Orders transform v2");
  await signIn(page, info, seeded.requester.username);
  await addComponent(page, info, orders);
  await addComponent(page, info, revenue);

  await page.getByRole("link", { name: "Changes", exact: true }).click();
  await page.getByRole("link", { name: "Record a change" }).click();
  await ready(page, info);
  await page.getByLabel("Title").fill(title);
  await page.getByLabel("Kind").selectOption("transform");
  await page.getByLabel("Why").fill("Deduplicate orders by order id.");
  await page.getByLabel("Git commit (SHA)").fill("9f2c1e7a");
  await page.getByLabel("Pull request link").fill("https://github.com/acme/etl/pull/42");
  await page.getByLabel("Affected components").fill(`${orders} | snapshot 8812\n${revenue}`);
  await page.getByRole("button", { name: "Record change" }).click();

  await expect(page.getByRole("status")).toHaveText("Change recorded.");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(title);
  const affected = page.getByRole("table", { name: /Affected components/ });
  await expect(affected.getByRole("row")).toHaveCount(3);
  await expect(affected.getByRole("row", { name: new RegExp(orders) })).toContainText("snapshot 8812");
  await expect(page.getByText("change.recorded")).toBeVisible();

  await page.goto(`/changes?q=${encodeURIComponent(title)}`);
  await expect(page.getByRole("link", { name: title })).toBeVisible();
});

test("a change with an invalid SHA and an unknown component is refused field by field", async ({ page }, info) => {
  await signIn(page, info, seeded.requester.username);
  await page.goto("/changes/new");
  await ready(page, info);
  await page.getByLabel("Title").fill(unique(info, "Broken change"));
  await page.getByLabel("Why").fill("Testing");
  await page.getByLabel("Git commit (SHA)").fill("not-a-sha");
  await page.getByLabel("Affected components").fill("no.such.component");
  await page.getByRole("button", { name: "Record change" }).click();
  await expect(page.getByText("is not a git commit id")).toBeVisible();
  await expect(page.getByRole("heading", { name: "Record a change" })).toBeVisible();
});
