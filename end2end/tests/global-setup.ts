import { request, FullConfig } from "@playwright/test";
import { addUser, seeded } from "./users";

/** Creates the suite's users and enough audit events (failed sign-ins) to need paging. */
export default async function globalSetup(config: FullConfig) {
  for (const u of Object.values(seeded)) addUser(u.username, u.roles, u.groups);
  const baseURL = config.projects[0].use.baseURL!;
  const api = await request.newContext({ baseURL });
  for (let i = 0; i < 60; i++) {
    await api.post("/api/auth/login", {
      form: { username: `ghost-${i}`, password: "not a password", next: "" },
      headers: { Accept: "application/json" },
    });
  }
  await api.dispose();
}
