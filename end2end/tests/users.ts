import { execFileSync } from "node:child_process";
import * as path from "node:path";

export const root = path.resolve(__dirname, "../..");
export const PASSWORD = "e2e password long enough";

/** The accounts the suite signs in with, created through the real CLI before the tests. */
export const seeded = {
  admin: { username: "e2e-admin", roles: ["admin"], groups: [] as string[] },
  requester: { username: "e2e-requester", roles: ["requester"], groups: [] },
  approver: { username: "e2e-approver", roles: ["approver"], groups: ["Product"] },
  governance: { username: "e2e-governance", roles: ["approver"], groups: ["Data governance"] },
  engineer: { username: "e2e-engineer", roles: ["approver"], groups: ["Engineering"] },
  postmortem: { username: "e2e-postmortem", roles: ["postmortem_author"], groups: [] },
  auditor: { username: "e2e-auditor", roles: ["auditor"], groups: [] },
};

/** Runs `rollgate user add`, giving the password on stdin as an operator's script would. */
export function addUser(username: string, roles: string[], groups: string[], password = PASSWORD) {
  const args = ["user", "add", "--username", username, "--name", `E2E ${username}`];
  for (const r of roles) args.push("--role", r);
  for (const g of groups) args.push("--group", g);
  execFileSync(path.join(root, "target/debug/rollgate"), args, {
    cwd: root,
    input: password + "\n",
    env: { ...process.env, DATABASE_URL: "sqlite://target/e2e/rollgate.db" },
    stdio: ["pipe", "pipe", "inherit"],
  });
}
