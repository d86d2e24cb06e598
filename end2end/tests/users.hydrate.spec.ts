import { expect, test } from "@playwright/test";
import { ready, signIn } from "./helpers";
import { seeded } from "./users";

test("with JavaScript, the new-user form checks a field as soon as it is left", async ({ page }, info) => {
  await signIn(page, info, seeded.admin.username);
  await page.goto("/admin/users/new");
  await ready(page, info);
  await page.getByLabel("Username").fill("Bad Name!");
  await page.getByLabel("Full name").focus();
  await expect(page.getByText("may use only letters a–z, digits and . _ - (not “ ”)")).toBeVisible();
  await page.getByLabel("Username").fill("good.name");
  await page.getByLabel("Full name").focus();
  await expect(page.getByText("may use only letters")).toHaveCount(0);
});
