import { expect, test } from "@playwright/test";
import { trySignIn, unique } from "./helpers";
import { addUser } from "./users";

test("a wrong password and an unknown username show the same message", async ({ page }, info) => {
  const name = unique(info, "wrongpw");
  addUser(name, ["requester"], []);
  await trySignIn(page, info, name, "definitely not it");
  await expect(page.getByRole("alert")).toHaveText("The username or password is incorrect.");
  await trySignIn(page, info, unique(info, "nobody"), "definitely not it");
  await expect(page.getByRole("alert")).toHaveText("The username or password is incorrect.");
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
});

test("empty fields are named next to the field", async ({ page }, info) => {
  await page.goto("/login");
  // Bypass the browser's own required-field check to reach the server's validation.
  await page.locator("form").evaluate((f) => f.setAttribute("novalidate", ""));
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText("enter your username")).toBeVisible();
  await expect(page.getByLabel("Username")).toHaveAttribute("aria-invalid", "true");
});
