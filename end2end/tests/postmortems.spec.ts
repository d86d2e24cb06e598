import { execFileSync } from "node:child_process";
import { expect, test } from "@playwright/test";
import { ready, signIn, signOut, unique } from "./helpers";
import { rolledBackChange, session } from "./rollback";
import { root, seeded } from "./users";

/** Moves an item's due date into the past, as the calendar would (the form refuses past dates). */
function makeOverdue(title: string) {
  const script =
    "import sqlite3, sys; c = sqlite3.connect('target/e2e/rollgate.db', timeout=10); " +
    "c.execute(\"UPDATE action_items SET due_on = date('now', '-4 days') WHERE title = ?\", (sys.argv[1],)); c.commit()";
  execFileSync("python3", ["-c", script, title], { cwd: root });
}

test("after a rollback, a postmortem is written from the record, reviewed by someone else, and its items reach their owners", async ({ page, browser }, info) => {
  test.setTimeout(120_000);
  const title = unique(info, "Ledger doubling");
  const changeUrl = await rolledBackChange(page, browser, info, title);
  await signOut(page, info);

  // The postmortem author opens it from the change: trigger and impact are filled in.
  await signIn(page, info, seeded.postmortem.username);
  await page.goto(changeUrl);
  await ready(page, info);
  await page.getByRole("button", { name: "Write the postmortem" }).click();
  await expect(page.getByRole("status")).toContainText("Postmortem opened");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(`Postmortem: ${title}`);
  const postmortemUrl = new URL(page.url()).pathname;

  // The timeline is the audit log: the approvals, the step the worker ran, the end.
  const timeline = page.locator("#timeline ol.timeline");
  await expect(timeline.getByText("Approved")).toHaveCount(3);
  await expect(timeline).toContainText("for Product");
  await expect(timeline).toContainText("Manual step marked done");
  await expect(timeline).toContainText("Rolled back");
  await expect(timeline.locator("li").first()).toContainText(/event #\d+/);
  const signOff = timeline.locator("li", { hasText: "Signed off: the rollback may run" });
  await signOff.getByLabel("Star").check();
  await signOff.getByLabel("Mark as").selectOption("key");
  await signOff.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status")).toHaveText("Timeline updated.");
  await expect(timeline.locator("li", { hasText: "Signed off" })).toContainText("★");
  await expect(timeline.locator("li", { hasText: "Signed off" })).toContainText("Key moment");

  // Writing it: every required section.
  await page.getByRole("link", { name: "Edit the text" }).click();
  await ready(page, info);
  await expect(page.getByLabel("Trigger")).toHaveValue(new RegExp(title));
  await expect(page.getByLabel("Impact")).toHaveValue(/Changed components/);
  await page.getByLabel("Summary").fill("Ledger totals were doubled for a day; we rolled the ledger back.");
  await page.getByLabel("Detection", { exact: true }).fill("Finance noticed doubled totals on the morning report.");
  await page.getByLabel("Root cause").fill("A join fanned out after a schema change.");
  await page.getByLabel("Resolution").fill("Rolled back to the version before snap-7.");
  await page.getByLabel("Lessons").fill("Row-count checks on joins catch fan-out.");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status")).toHaveText("Postmortem saved.");

  // Two action items with owners; a past due date is refused with its reason.
  const first = unique(info, "Add a row-count check to the ledger join");
  const second = unique(info, "Page the ledger owner on doubled totals");
  const addItem = async (itemTitle: string, owner: string, due = "") => {
    const form = page.locator("#action-items form");
    await form.getByLabel("Title").fill(itemTitle);
    await form.getByLabel("Owner").selectOption({ label: `E2E ${owner} (${owner})` });
    await form.getByLabel("Priority").selectOption("high");
    await form.getByLabel("Due date").fill(due);
    await form.getByRole("button", { name: "Add the action item" }).click();
  };
  await addItem(first, seeded.approver.username, "2020-01-01");
  await expect(page.getByText(/is in the past/)).toBeVisible();
  await addItem(first, seeded.approver.username);
  await expect(page.getByRole("status")).toHaveText("Action item added.");
  await expect(page.locator("#action-items table")).toContainText(first);
  await addItem(second, seeded.requester.username);
  await expect(page.locator("#action-items table")).toContainText(second);

  await page.getByRole("button", { name: "Send for review" }).click();
  await expect(page.getByRole("status")).toContainText("Sent for review");
  // Its author cannot publish it.
  await expect(page.getByRole("button", { name: "Publish" })).toHaveCount(0);
  await signOut(page, info);

  // A reviewer who did not write it publishes it.
  const reviewer = await session(browser, info, seeded.admin.username);
  await reviewer.goto(postmortemUrl);
  await ready(reviewer, info);
  await reviewer.getByRole("button", { name: "Publish" }).click();
  await expect(reviewer.getByRole("status")).toHaveText("Published.");
  // Published, the timeline shows the starred entry; the rest behind a toggle.
  const published = reviewer.locator("#timeline ol.timeline");
  await expect(published.locator("li")).toHaveCount(1);
  await expect(published).toContainText("Signed off");
  await reviewer.getByRole("link", { name: /Show all \d+ entries/ }).click();
  await expect(reviewer.locator("#timeline ol.timeline").getByText("Approved")).toHaveCount(3);
  await reviewer.goto(`${postmortemUrl}/versions/1`);
  await expect(reviewer.getByRole("heading", { level: 1 })).toHaveText("Postmortem, version 1");
  await expect(reviewer.getByText("Row-count checks on joins catch fan-out.")).toBeVisible();
  const markdown = await reviewer.request.get(`${postmortemUrl}/export.md`);
  expect(markdown.status()).toBe(200);
  expect(await markdown.text()).toContain(`# Postmortem: ${title}`);
  await reviewer.context().close();

  // The owner finds the item in My action items, counted in the navigation.
  await signIn(page, info, seeded.approver.username);
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: /My action items \d+ open/ })).toBeVisible();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: /My action items/ }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("My action items");
  await expect(page.getByRole("link", { name: first })).toBeVisible();
  await expect(page.getByRole("link", { name: second })).toHaveCount(0);

  // Days later, the other item is overdue: the overdue view lists it with how late it is.
  makeOverdue(second);
  await page.goto("/action-items/overdue");
  await expect(page.getByRole("row", { name: new RegExp(second) })).toContainText("4 d late");
  await expect(page.getByRole("link", { name: first })).toHaveCount(0);
});
