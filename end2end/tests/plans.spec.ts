import { Browser, expect, Page, test, TestInfo } from "@playwright/test";
import { addComponent, ready, signIn, signOut, unique } from "./helpers";
import { seeded } from "./users";

/** A separate browser session (own cookies) signed in as `username`, JavaScript as the project. */
async function session(browser: Browser, info: TestInfo, username: string): Promise<Page> {
  const context = await browser.newContext({
    baseURL: info.project.use.baseURL,
    javaScriptEnabled: info.project.name === "hydrate",
  });
  const page = await context.newPage();
  await signIn(page, info, username);
  return page;
}

async function approve(page: Page, info: TestInfo, planUrl: string, expected: RegExp) {
  await page.goto(planUrl);
  await ready(page, info);
  await page.getByRole("button", { name: "Approve" }).click();
  await expect(page.getByRole("status").first()).toHaveText(expected);
}

test("requester drafts, edits and submits; three approvers sign off; an edit voids an approval", async ({ page, browser }, info) => {
  test.setTimeout(120_000);
  const dataset = unique(info, "finance.revenue");
  const title = unique(info, "Revenue currency fix");
  await signIn(page, info, seeded.requester.username);
  await addComponent(page, info, dataset);
  await page.goto("/changes/new");
  await ready(page, info);
  await page.getByLabel("Title").fill(title);
  await page.getByLabel("Why").fill("Totals were doubled.");
  await page.getByLabel("Git commit (SHA)").fill("9f2c1e7a");
  await page.getByLabel("Affected components").fill(`${dataset} | snap-881`);
  await page.getByRole("button", { name: "Record change" }).click();
  await expect(page.getByRole("status")).toHaveText("Change recorded.");

  // The proposed plan: the changed dataset, restoring its data version.
  await page.getByRole("button", { name: "Draft the rollback plan" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(`Rollback plan: ${title}`);
  const planUrl = new URL(page.url()).pathname;
  const matrix = page.getByRole("table", { name: /Rollback matrix/ });
  await expect(matrix).toContainText(dataset);
  await expect(matrix).toContainText("Restores the version before snap-881 (undoes snap-881)");
  await expect(page.getByText("Draft", { exact: true })).toBeVisible();

  // Edit a row: a new revision with its own hash.
  await page.getByRole("link", { name: "Edit plan" }).click();
  await ready(page, info);
  await page.getByLabel("Scope (required)").first().fill("partition 2026-11-19");
  // What submitting needs: why not fix forward, and how the restored row is verified and flagged.
  await page.getByLabel("Why roll back rather than fix forward").fill("A forward fix needs a day.");
  await page.getByLabel("Verification checks (one per line)").first().fill("run succeeded");
  await page.getByLabel("How reconciled data is flagged for consumers").first().fill("A banner on the revenue dashboard");
  await page.getByRole("button", { name: "Save revision" }).click();
  await expect(page.getByRole("status").first()).toHaveText("Saved as revision 2.");
  await expect(matrix).toContainText("partition 2026-11-19");
  await page.getByRole("button", { name: "Submit revision 2 for approval" }).click();
  await expect(page.getByRole("status").first()).toHaveText(/Submitted for approval/);
  // The requester has no approve button, and the server refuses the direct call.
  await expect(page.getByRole("button", { name: "Approve" })).toHaveCount(0);
  const direct = await page.request.post("/api/plans/decide", {
    form: { id: planUrl.split("/")[2], revision: "2", content_hash: "x", decision: "approve", request_key: "direct" },
    headers: { Accept: "application/json" },
  });
  expect(direct.status()).toBe(403);

  // Product approves in its own session; the plan is in its inbox first.
  const product = await session(browser, info, seeded.approver.username);
  await product.goto("/inbox");
  await expect(product.getByRole("link", { name: title })).toBeVisible();
  // Told in Rollgate (and by e-mail once it is set up): the request is in Product's notifications.
  await product.goto("/notifications");
  await expect(product.getByRole("link", { name: `Approval needed: rollback plan for “${title}”` })).toBeVisible();
  await approve(product, info, planUrl, /Your approval is recorded/);
  await expect(product.getByText(/approved revision 2 for Product/)).toBeVisible();
  await expect(product.getByText(/Notified: Approval requested → .*e2e-approver/)).toBeVisible();

  // The requester edits again: the product approval is voided and stays visible.
  await page.goto(`${planUrl}/edit`);
  await ready(page, info);
  await page.getByLabel("Scope (required)").first().fill("partition 2026-11-20");
  await page.getByRole("button", { name: "Save revision" }).click();
  await expect(page.getByRole("status").first()).toHaveText("Saved as revision 3.");
  await expect(page.getByText(/Revision 3 changed the plan after this decision/)).toBeVisible();

  await product.goto("/notifications");
  await expect(product.getByRole("link", { name: `Your decision was voided: the plan for “${title}” changed` })).toBeVisible();
  await product.goto("/inbox");
  await expect(product.getByRole("row", { name: new RegExp(title) })).toContainText("Changed since your decision");
  await approve(product, info, planUrl, /Your approval is recorded/);
  const governance = await session(browser, info, seeded.governance.username);
  await approve(governance, info, planUrl, /Your approval is recorded/);
  const engineer = await session(browser, info, seeded.engineer.username);
  await approve(engineer, info, planUrl, /completed the sign-off/);
  // The worker takes the job at once (no maintenance windows) and halts: these components are
  // bound to no orchestrator.
  await expect(engineer.getByText(/Signed off .* revision 3\. Rollback job #\d+/)).toBeVisible();

  await page.goto(planUrl);
  await ready(page, info);
  await page.getByRole("link", { name: "with revision 3" }).first().click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(/Compare revisions \d and 3/);

  await page.goto(planUrl);
  await page.getByRole("link", { name: "Follow the rollback" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(`Rollback of “${title}”`);
  await ready(page, info);
  // The component is bound to no orchestrator, so its row is a manual step: the worker waits.
  const waiting = "Waiting for a person to do it and mark it done.";
  await expect(page.getByText(waiting)).toBeVisible();

  // An approver follows the rollback but may not operate it.
  await engineer.goto(page.url());
  await expect(engineer.getByText(waiting)).toBeVisible();
  await expect(engineer.getByRole("button", { name: "Mark done" })).toHaveCount(0);

  await page.getByLabel("Note (optional)").fill("Restored by hand from snap-881");
  await page.getByRole("button", { name: "Mark done" }).click();
  // Hydrated, the page follows the worker by itself; without JavaScript the refresh link does.
  await expect(async () => {
    if (info.project.name !== "hydrate") await page.getByRole("link", { name: "Refresh" }).click();
    await expect(page.getByText("Rolled back", { exact: true })).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  await expect(page.getByText("Restored by hand from snap-881").first()).toBeVisible();
  await page.getByRole("link", { name: "The change" }).click();
  await expect(page.getByText("Rolled back").first()).toBeVisible();

  // The rollbacks list finds it by status.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Rollbacks" }).click();
  await page.getByLabel("Status").selectOption("succeeded");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page.getByRole("row", { name: new RegExp(title) })).toContainText("Rolled back");
});

test("the plan names each row's DAG and connector, and says when the catalog rebinds one", async ({ page }, info) => {
  test.setTimeout(90_000);
  const connector = unique(info, "airflow");
  const job = unique(info, "orders_etl");
  const title = unique(info, "Orders v42");
  await signIn(page, info, seeded.admin.username);
  await page.getByRole("link", { name: "Connectors" }).click();
  await ready(page, info);
  await page.getByRole("textbox", { name: /^Name/ }).fill(connector);
  await page.getByLabel("Kind").selectOption("airflow3");
  await page.getByLabel("Base URL").fill("http://127.0.0.1:9");
  await page.getByLabel("Username (Airflow)").fill("runner");
  await page.getByLabel("Or store the secret (encrypted)").fill("runner-password");
  await page.getByRole("button", { name: "Add connector" }).click();
  await expect(page.getByText("Connector saved.")).toBeVisible();
  await signOut(page, info);
  await signIn(page, info, seeded.requester.username);

  await page.goto("/catalog/new");
  await ready(page, info);
  await page.getByLabel("Name").fill(job);
  await page.getByLabel("Kind").selectOption("job");
  await page.getByLabel("Connector").fill(connector);
  await page.getByLabel("Production DAG id").fill("orders_etl");
  await page.getByLabel("Rollback DAG id").fill("orders_etl_rollback");
  await page.getByRole("button", { name: "Add component" }).click();
  await expect(page.getByRole("status")).toHaveText("Component added.");
  const componentUrl = new URL(page.url()).pathname;

  await page.goto("/changes/new");
  await ready(page, info);
  await page.getByLabel("Title").fill(title);
  await page.getByLabel("Why").fill("Totals were doubled.");
  await page.getByLabel("Affected components").fill(`${job} | snap-42`);
  await page.getByRole("button", { name: "Record change" }).click();
  await expect(page.getByRole("status")).toHaveText("Change recorded.");
  await page.getByRole("button", { name: "Draft the rollback plan" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(`Rollback plan: ${title}`);
  const planUrl = new URL(page.url()).pathname;
  const matrix = page.getByRole("table", { name: /Rollback matrix/ });
  await expect(matrix).toContainText(`DAG \`orders_etl\` on ${connector} (http://127.0.0.1:9)`);
  await expect(matrix).toContainText(`DAG \`orders_etl_rollback\` on ${connector} (http://127.0.0.1:9)`);
  await expect(page.getByText("Bindings changed")).toHaveCount(0);

  // Someone rebinds the rollback DAG in the catalog: the plan says so, and keeps its own.
  await page.goto(`${componentUrl}/edit`);
  await ready(page, info);
  await page.getByLabel("Rollback DAG id").fill("orders_etl_backfill");
  await page.getByRole("button", { name: "Save component" }).click();
  await expect(page.getByRole("status")).toHaveText("Component saved.");
  await page.goto(planUrl);
  await ready(page, info);
  const notice = page.getByRole("status").filter({ hasText: "Bindings changed" });
  await expect(notice).toContainText("Bindings changed since this revision was saved");
  await expect(notice).toContainText("rollback DAG `orders_etl_rollback` → `orders_etl_backfill`");
  await expect(matrix).toContainText("DAG `orders_etl_rollback`");
});
