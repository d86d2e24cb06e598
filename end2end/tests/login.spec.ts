import { expect, test } from "@playwright/test";
import { ready, signIn, trySignIn, unique } from "./helpers";
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

test("signing out everywhere from the account page ends the session on another device too", async ({ browser }, info) => {
  const name = unique(info, "everywhere");
  addUser(name, ["requester"], []);
  // Two devices: two browser contexts with the project's settings (JavaScript on or off).
  const device = async () => {
    const { baseURL, javaScriptEnabled } = info.project.use;
    return (await browser.newContext({ baseURL, javaScriptEnabled })).newPage();
  };
  const laptop = await device();
  const phone = await device();
  await signIn(laptop, info, name);
  await signIn(phone, info, name);
  await laptop.getByRole("link", { name: `E2E ${name}` }).click();
  await expect(laptop.getByRole("heading", { level: 1 })).toHaveText("Your account");
  await ready(laptop, info);
  await laptop.getByRole("button", { name: "Sign out everywhere" }).click();
  await expect(laptop.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await phone.goto("/changes");
  await expect(phone).toHaveURL(/\/login\?next=/);
  await laptop.context().close();
  await phone.context().close();
});
