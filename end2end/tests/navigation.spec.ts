import { expect, test } from "@playwright/test";
import { ready, signIn, signOut } from "./helpers";
import { seeded } from "./users";

const navFor: Record<keyof typeof seeded, (string | RegExp)[]> = {
  admin: ["Home", "Changes", "Catalog", "Rollbacks", "Postmortems", "Users", "Groups", "Connectors", "Policies", "Delivery", "Audit log", "API tokens", /^My action items/, "Notifications"],
  requester: ["Home", "Changes", "Catalog", "Rollbacks", "Postmortems", "API tokens", /^My action items/, "Notifications"],
  approver: ["Home", "Changes", "Catalog", "Rollbacks", "Postmortems", "Waiting for you", /^My action items/, "Notifications"],
  governance: ["Home", "Changes", "Catalog", "Rollbacks", "Postmortems", "Waiting for you", /^My action items/, "Notifications"],
  engineer: ["Home", "Changes", "Catalog", "Rollbacks", "Postmortems", "Waiting for you", /^My action items/, "Notifications"],
  postmortem: ["Home", "Changes", "Catalog", "Rollbacks", "Postmortems", /^My action items/, "Notifications"],
  auditor: ["Home", "Changes", "Catalog", "Rollbacks", "Postmortems", "Users", "Groups", "Audit log", /^My action items/, "Notifications"],
};

for (const [role, user] of Object.entries(seeded) as [keyof typeof seeded, (typeof seeded)[keyof typeof seeded]][]) {
  test(`a ${role} signs in, sees the navigation of the role, and signs out`, async ({ page }, info) => {
    await signIn(page, info, user.username);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(`Welcome, E2E ${user.username}`);
    await ready(page, info);
    const nav = page.getByRole("navigation", { name: "Main" });
    await expect(nav.getByRole("list").getByRole("link")).toHaveText(navFor[role]);
    await expect(nav.getByRole("link", { name: `E2E ${user.username}` })).toHaveAttribute("href", "/account");
    await signOut(page, info);
  });
}

test("an anonymous visitor is sent to sign in and comes back after", async ({ page }, info) => {
  await page.goto("/audit?action=user.created");
  await expect(page).toHaveURL(/\/login\?next=/);
  await ready(page, info);
  await page.getByLabel("Username").fill(seeded.auditor.username);
  await page.getByLabel("Password").fill("e2e password long enough");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Audit log" })).toBeVisible();
  await expect(page.getByLabel("Action")).toHaveValue("user.created");
});

test("a role without the page gets a 403 page, and an unknown address a 404", async ({ page }, info) => {
  await signIn(page, info, seeded.requester.username);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Welcome");
  const forbidden = await page.goto("/admin/users");
  expect(forbidden?.status()).toBe(403);
  await expect(page.getByRole("heading", { name: "Not allowed" })).toBeVisible();
  const missing = await page.goto("/no/such/page");
  expect(missing?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
});
