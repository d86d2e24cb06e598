import { expect, request, test } from "@playwright/test";
import { ready, signIn, unique } from "./helpers";
import { seeded } from "./users";

test("a token created in the UI records a change over HTTP that the list then shows", async ({ page, baseURL }, info) => {
  const component = unique(info, "ci.orders");
  const title = unique(info, "Deployed by CI");
  await signIn(page, info, seeded.requester.username);
  await page.getByRole("link", { name: "API tokens" }).click();
  await ready(page, info);
  await page.getByLabel("Name").fill(unique(info, "GitHub Actions"));
  await page.getByLabel(/Record changes/).check();
  await page.getByLabel(/Declare components/).check();
  await page.getByRole("button", { name: "Create token" }).click();
  await expect(page.getByRole("heading", { name: "Your new token" })).toBeVisible();
  const secret = await page.getByLabel(/Token #/).inputValue();
  expect(secret).toMatch(/^rg_[0-9a-f]{64}$/);

  // What a CI step does with curl.
  const ci = await request.newContext({ baseURL, extraHTTPHeaders: { Authorization: `Bearer ${secret}` } });
  const declared = await ci.post("/api/v1/catalog/components", { data: { components: [{ name: component, kind: "dataset" }] } });
  expect(declared.status()).toBe(200);
  const created = await ci.post("/api/v1/changes", {
    headers: { "Idempotency-Key": unique(info, "deploy") },
    data: { title, kind: "config", why: "Raised the batch size", git_sha: "0a1b2c3d", components: [{ name: component }] },
  });
  expect(created.status()).toBe(201);
  await ci.dispose();

  await page.goto("/changes");
  await expect(page.getByRole("link", { name: title })).toBeVisible();
  await page.getByRole("link", { name: title }).click();
  await expect(page.getByRole("row", { name: /recorded via token/ })).toBeVisible();
});
