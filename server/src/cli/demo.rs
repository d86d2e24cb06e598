//! Demo mode: one user per role with random passwords, printed once.

use rand::{distributions::Alphanumeric, Rng};

use app::{
    audit::repo::Ctx,
    db::{Conn, Db},
    groups::repo::list_groups,
    users::{model::NewUser, repo::count_users, service::create_user},
};

/// (username, full name, roles, approval group)
const DEMO_USERS: [(&str, &str, &[&str], Option<&str>); 7] = [
    ("admin", "Ada Admin", &["admin"], None),
    ("requester", "Rui Requester", &["requester"], None),
    ("product", "Priya Product", &["approver"], Some("Product")),
    (
        "governance",
        "Gus Governance",
        &["approver"],
        Some("Data governance"),
    ),
    (
        "engineering",
        "Eli Engineering",
        &["approver"],
        Some("Engineering"),
    ),
    ("postmortem", "Pat Postmortem", &["postmortem_author"], None),
    ("auditor", "Aud Auditor", &["auditor"], None),
];

pub async fn seed(db: &Db) -> anyhow::Result<()> {
    if count_users(&mut Conn::Db(db)).await? > 0 {
        println!("Demo mode: users already exist, so none were added. Their passwords were printed when they");
        println!("were created; to start afresh, stop Rollgate and delete the ./data folder.");
        return Ok(());
    }
    let groups = list_groups(&mut Conn::Db(db)).await?;
    let ctx = Ctx {
        actor: None,
        request_id: Some("demo-seed".into()),
    };
    let mut lines = Vec::new();
    for (username, name, roles, group) in DEMO_USERS {
        let password: String = rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(16)
            .map(char::from)
            .collect();
        let group_ids: Vec<i64> = group
            .iter()
            .filter_map(|g| groups.iter().find(|x| x.name == *g).map(|x| x.id))
            .collect();
        let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
        let new = NewUser::parse(username, name, &password, &roles, &group_ids)
            .map_err(|e| anyhow::anyhow!("demo user {username}: {e:?}"))?;
        create_user(db, &ctx, new)
            .await
            .map_err(|e| anyhow::anyhow!("demo user {username}: {e}"))?;
        lines.push(format!(
            "  {username:<12} {password}   {}",
            roles.join(", ") + &group.map(|g| format!(" ({g})")).unwrap_or_default()
        ));
    }
    println!("\nDemo users (shown once; sign in at the address below):");
    println!("  username     password           roles");
    for line in lines {
        println!("{line}");
    }
    println!();
    Ok(())
}
