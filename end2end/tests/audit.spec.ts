import { expect, test } from "@playwright/test";
import { ready, signIn } from "./helpers";
import { seeded } from "./users";

test("the auditor sees the events, filters them and pages through them", async ({ page }, info) => {
  await signIn(page, info, seeded.auditor.username);
  await page.getByRole("link", { name: "Audit log", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Audit log" })).toBeVisible();
  const rows = page.locator("table.table--audit tbody tr");
  await expect(rows).toHaveCount(50);

  await page.getByRole("link", { name: "Older events →" }).click();
  await expect(page).toHaveURL(/before=\d+/);
  await expect(rows.first()).toBeVisible();
  await page.getByRole("link", { name: "← Newer events" }).click();
  await expect(page).toHaveURL(/after=\d+/);

  await ready(page, info);
  await page.getByLabel("Action").fill("user.created");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/action=user.created/);
  await expect(rows.filter({ hasText: "user.created" })).not.toHaveCount(0);
  await expect(rows.filter({ hasNotText: "user.created" })).toHaveCount(0);
  await expect(page.getByRole("cell", { name: `user ` }).first()).toBeVisible();
});

test("failed sign-ins and a created user are in the audit log", async ({ page }, info) => {
  await signIn(page, info, seeded.auditor.username);
  await page.goto("/audit?action=auth.login_failed");
  await expect(page.locator("table.table--audit tbody tr").first()).toContainText("auth.login_failed");
  await page.goto(`/audit?action=user.created&entity_type=user`);
  await page.locator("details summary").first().click();
  await expect(page.locator("details pre").first()).toBeVisible();
});

test("an invalid date filter says which field is wrong", async ({ page }, info) => {
  await signIn(page, info, seeded.auditor.username);
  const res = await page.goto("/audit?from=yesterday");
  expect(res?.status()).toBe(422);
  await expect(page.getByRole("alert")).toContainText("from: must be a date like 2026-11-23");
});
