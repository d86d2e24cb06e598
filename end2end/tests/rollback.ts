import { Browser, expect, Page, TestInfo } from "@playwright/test";
import { addComponent, ready, signIn, unique } from "./helpers";
import { seeded } from "./users";

/** A separate browser session (own cookies) signed in as `username`, JavaScript as the project. */
export async function session(browser: Browser, info: TestInfo, username: string): Promise<Page> {
  const context = await browser.newContext({
    baseURL: info.project.use.baseURL,
    javaScriptEnabled: info.project.name === "hydrate",
  });
  const page = await context.newPage();
  await signIn(page, info, username);
  return page;
}

/**
 * The golden path, briskly: the requester records a change and submits its proposed plan, the
 * three approvers sign it off, and the requester carries out its manual step until the change
 * is rolled back. Returns the change's address; `page` stays signed in as the requester.
 */
export async function rolledBackChange(page: Page, browser: Browser, info: TestInfo, title: string): Promise<string> {
  const dataset = unique(info, "finance.ledger");
  await signIn(page, info, seeded.requester.username);
  await addComponent(page, info, dataset);
  await page.goto("/changes/new");
  await ready(page, info);
  await page.getByLabel("Title").fill(title);
  await page.getByLabel("Why").fill("Ledger totals were doubled.");
  await page.getByLabel("Affected components").fill(`${dataset} | snap-7`);
  await page.getByRole("button", { name: "Record change" }).click();
  await expect(page.getByRole("status")).toHaveText("Change recorded.");
  const changeUrl = new URL(page.url()).pathname;
  await page.getByRole("button", { name: "Draft the rollback plan" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(`Rollback plan: ${title}`);
  const planUrl = new URL(page.url()).pathname;
  await page.getByRole("link", { name: "Edit plan" }).click();
  await ready(page, info);
  await page.getByLabel("Scope (required)").first().fill("partition 2026-11-30");
  await page.getByLabel("Why roll back rather than fix forward").fill("A forward fix needs a day.");
  await page.getByLabel("Verification checks (one per line)").first().fill("run succeeded");
  await page.getByLabel("How reconciled data is flagged for consumers").first().fill("A banner on the ledger dashboard");
  await page.getByRole("button", { name: "Save revision" }).click();
  await expect(page.getByRole("status").first()).toHaveText("Saved as revision 2.");
  await page.getByRole("button", { name: "Submit revision 2 for approval" }).click();
  await expect(page.getByRole("status").first()).toHaveText(/Submitted for approval/);
  for (const approver of [seeded.approver, seeded.governance, seeded.engineer]) {
    const other = await session(browser, info, approver.username);
    await other.goto(planUrl);
    await ready(other, info);
    await other.getByRole("button", { name: "Approve" }).click();
    await expect(other.getByRole("status").first()).toHaveText(/Your approval is recorded|completed the sign-off/);
    await other.context().close();
  }
  await page.goto(planUrl);
  await page.getByRole("link", { name: "Follow the rollback" }).click();
  await ready(page, info);
  await expect(page.getByText("Waiting for a person to do it and mark it done.")).toBeVisible();
  await page.getByRole("button", { name: "Mark done" }).click();
  await expect(async () => {
    if (info.project.name !== "hydrate") await page.getByRole("link", { name: "Refresh" }).click();
    await expect(page.getByText("Rolled back", { exact: true })).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  return changeUrl;
}
