import { expect, test } from "@playwright/test";
import { ready, signIn, unique } from "./helpers";
import { seeded } from "./users";

test("an admin adds a tag policy with a weekly window; a bad time zone is named and saves nothing", async ({ page }, info) => {
  await signIn(page, info, seeded.admin.username);
  await page.getByRole("link", { name: "Policies" }).click();
  await ready(page, info);
  await expect(page.getByRole("heading", { name: "Default", level: 2 })).toBeVisible();
  await expect(page.getByText("1 approval from Data governance")).toBeVisible();

  const name = unique(info, "PII datasets");
  await page.getByLabel("Name (required)").fill(name);
  await page.getByLabel("Applies to").selectOption("tag");
  await page.getByLabel("Tag or pipeline name").fill(unique(info, "pii"));
  await page.getByLabel("Required approvals").fill("Data governance: 2\nEngineering: 1");
  await page.getByLabel("Maintenance windows").fill("weekly Sat 02:00-06:00 Mars/Olympus");
  await page.getByRole("button", { name: "Save policy" }).click();
  await expect(page.getByText("Line 1: `Mars/Olympus` is not a time zone")).toBeVisible();
  await expect(page.getByRole("heading", { name, level: 2 })).toHaveCount(0);

  await page.getByLabel("Name (required)").fill(name);
  await page.getByLabel("Applies to").selectOption("tag");
  await page.getByLabel("Tag or pipeline name").fill(unique(info, "pii"));
  await page.getByLabel("Required approvals").fill("Data governance: 2\nEngineering: 1");
  await page.getByLabel("Maintenance windows").fill("weekly Sat 02:00-06:00 Europe/Berlin");
  await page.getByRole("button", { name: "Save policy" }).click();
  const card = page.getByRole("article", { name });
  await expect(card).toContainText("2 approvals from Data governance");
  await expect(card).toContainText("weekly Sat 02:00-06:00 Europe/Berlin");
});
