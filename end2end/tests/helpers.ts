import { expect, Page, TestInfo } from "@playwright/test";
import { PASSWORD } from "./users";

/** Waits until the page is interactive: hydrated with JavaScript, or simply loaded without. */
export async function ready(page: Page, info: TestInfo) {
  if (info.project.name === "hydrate") {
    await expect(page.locator("main[data-hydrated='true']")).toBeVisible();
  }
}

/** Submits the sign-in form; the caller checks the outcome. */
export async function trySignIn(page: Page, info: TestInfo, username: string, password = PASSWORD) {
  await page.goto("/login");
  await ready(page, info);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** Signs in and waits for the home page. */
export async function signIn(page: Page, info: TestInfo, username: string, password = PASSWORD) {
  await trySignIn(page, info, username, password);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(/^Welcome, /);
}

export async function signOut(page: Page, info: TestInfo) {
  await ready(page, info);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
}

/** A name unique to this project run, so the two projects never collide. */
export function unique(info: TestInfo, base: string) {
  return `${base}-${info.project.name}-${Date.now() % 100000}`;
}

/** Adds a dataset through the component form. */
export async function addComponent(page: Page, info: TestInfo, name: string) {
  await page.goto("/catalog/new");
  await ready(page, info);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Kind").selectOption("dataset");
  await page.getByLabel("Owner").fill("data-platform");
  await page.getByRole("button", { name: "Add component" }).click();
  await expect(page.getByRole("status")).toHaveText("Component added.");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(name);
}
