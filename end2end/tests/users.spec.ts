import { expect, Page, test, TestInfo } from "@playwright/test";
import { ready, signIn, signOut, trySignIn, unique } from "./helpers";
import { seeded } from "./users";

/** Fills and submits the new-user form (the page must be open). */
async function createUser(page: Page, info: TestInfo, username: string, name: string, role: string) {
  await ready(page, info);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Full name").fill(name);
  await page.getByLabel("Initial password").fill("a long new password");
  await page.getByLabel(role).check();
  await page.getByRole("button", { name: "Create user" }).click();
}

test("an admin creates a user who then signs in", async ({ page }, info) => {
  const username = unique(info, "newbie");
  await signIn(page, info, seeded.admin.username);
  await page.getByRole("link", { name: "Users", exact: true }).click();
  await page.getByRole("link", { name: "Create user" }).click();
  await createUser(page, info, username, "Zoë Newbie", "Requester (data engineer)");
  await expect(page.getByRole("status")).toHaveText("User created. They can sign in now.");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Zoë Newbie");
  await signOut(page, info);

  await signIn(page, info, username, "a long new password");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Welcome, Zoë Newbie");
});

test("bad input is named field by field and creates nothing", async ({ page }, info) => {
  await signIn(page, info, seeded.admin.username);
  await page.goto("/admin/users/new");
  await ready(page, info);
  // Values the browser accepts but the server must refuse.
  await page.getByLabel("Username").fill("x".repeat(10_000));
  await page.getByLabel("Full name").fill("   ");
  await page.getByLabel("Initial password").fill("short");
  // Enter submits, as a keyboard user would (with JavaScript the fields have just shown their
  // own hints, which moves the button).
  await page.getByLabel("Initial password").press("Enter");
  await expect(page.getByText("must be 3 to 64 characters (this one has 10000)")).toBeVisible();
  await expect(page.getByText("must be at least 12 characters")).toBeVisible();
  await expect(page.getByText("choose at least one role")).toBeVisible();
  await expect(page.getByText("is required")).toBeVisible();
  await expect(page.getByRole("heading", { name: "Create a user" })).toBeVisible();
});

test("an admin deactivates a user, who can then no longer sign in", async ({ page }, info) => {
  const username = unique(info, "leaver");
  await signIn(page, info, seeded.admin.username);
  await page.goto("/admin/users/new");
  await createUser(page, info, username, "Lee Leaver", "Auditor (read-only)");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Lee Leaver");
  await ready(page, info);
  await page.getByRole("button", { name: "Deactivate user" }).click();
  await expect(page.getByRole("status")).toContainText("User deactivated");
  await signOut(page, info);
  await trySignIn(page, info, username, "a long new password");
  await expect(page.getByRole("alert")).toContainText("deactivated");
});
