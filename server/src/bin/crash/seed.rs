//! The crash test's world, made through the normal services before any server starts: a
//! requester, three approvers (one per default group), the counting Airflow as a connector, one
//! bound component, and `flows` changes, each with a submitted one-row plan awaiting approval.

use anyhow::Context;
use app::{
    approvals::service::ensure_default_policy,
    audit::{repo::Ctx, Actor},
    catalog::{
        model::{ComponentKind, Declaration},
        service::{self as catalog, Source},
    },
    changes::{
        model::{ChangeInput, NewChange},
        service as changes,
    },
    connectors::{model::NewConnector, secret::SecretKey, service as connectors},
    db::{Conn, Db},
    execution::fake_airflow::PASSWORD as AIRFLOW_PASSWORD,
    groups::repo::list_groups,
    plans::{
        model::{Action, Check, PlanBody, Row, Stage},
        repo as plans_repo, service as plans,
    },
    users::{model::NewUser, service::create_user},
};
use chrono::Utc;

pub const PASSWORD: &str = "crash test password";
/// (username, approval group)
pub const APPROVERS: [(&str, &str); 3] = [
    ("crash-product", "Product"),
    ("crash-governance", "Data governance"),
    ("crash-engineering", "Engineering"),
];

/// A plan waiting for its three approvals.
#[derive(Debug, Clone)]
pub struct Pending {
    pub id: i64,
    pub revision: i32,
    pub hash: String,
}

pub async fn seed(
    db: &Db,
    airflow: &str,
    key: &SecretKey,
    flows: usize,
) -> anyhow::Result<Vec<Pending>> {
    let ctx = Ctx::system();
    let groups = list_groups(&mut Conn::Db(db)).await?;
    let group = |name: &str| groups.iter().find(|g| g.name == name).map(|g| g.id);
    let new = NewUser::parse(
        "crash-requester",
        "Crash Requester",
        PASSWORD,
        &["requester".into()],
        &[],
    )
    .map_err(|e| anyhow::anyhow!("requester: {e:?}"))?;
    let requester = Actor {
        id: create_user(db, &ctx, new).await?,
        username: "crash-requester".into(),
    };
    for (name, g) in APPROVERS {
        let ids: Vec<i64> = group(g).into_iter().collect();
        let new = NewUser::parse(name, name, PASSWORD, &["approver".into()], &ids)
            .map_err(|e| anyhow::anyhow!("{name}: {e:?}"))?;
        create_user(db, &ctx, new).await?;
    }
    ensure_default_policy(db).await?;
    let airflow = NewConnector::parse(
        "airflow",
        "airflow3",
        airflow,
        "runner",
        "",
        AIRFLOW_PASSWORD,
    )
    .map_err(|e| anyhow::anyhow!("connector: {e:?}"))?;
    connectors::save(db, &ctx, key, None, airflow).await?;
    let etl = Declaration {
        name: "orders_etl".into(),
        kind: Some(ComponentKind::Job),
        upstream: Some(vec![]),
        connector: Some("airflow".into()),
        dag_id: Some("orders_etl".into()),
        rollback_dag_id: Some("orders_etl_rollback".into()),
        ..Default::default()
    };
    catalog::declare(db, &ctx, Source::File, "crash test", vec![etl]).await?;
    let etl = app::catalog::repo::refs_by_names(&mut Conn::Db(db), &["orders_etl".to_string()])
        .await?
        .first()
        .map(|r| r.id)
        .context("the declared component")?;
    let mut out = Vec::with_capacity(flows);
    for n in 0..flows {
        out.push(one(db, &ctx, &requester, etl, n).await?);
    }
    Ok(out)
}

async fn one(db: &Db, ctx: &Ctx, requester: &Actor, etl: i64, n: usize) -> anyhow::Result<Pending> {
    let input = ChangeInput {
        title: format!("Crash flow {n}"),
        kind: "transform".into(),
        why: "Totals doubled".into(),
        git_sha: "0123abc".into(),
        components: vec![("orders_etl".into(), format!("snap-{n}"))],
        ..Default::default()
    };
    let parsed = NewChange::parse(&input, Utc::now()).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let change = changes::create(db, ctx, requester.id, &parsed, None).await?;
    let plan = plans::draft(db, ctx, requester, change).await?;
    let row = Row {
        component_id: etl,
        component: "orders_etl".into(),
        scope: "partitions 2026-11-01..2026-11-03".into(),
        action: Action::TriggerRollback {
            params: r#"{"target_version": "previous"}"#.into(),
        },
        checks: vec![Check::RunSucceeded],
        flagging: "`is_reconciled` set on restored rows".into(),
        owner: requester.username.clone(),
        restore: None,
        binding: None,
        deadline_minutes: None,
    };
    let body = PlanBody {
        reason: "Totals doubled".into(),
        criteria: "A forward fix needs a day; consumers read wrong totals now.".into(),
        stages: vec![Stage { rows: vec![row] }],
        ..Default::default()
    };
    let revision = plans::save(db, ctx, requester, plan, 1, body).await?;
    plans::submit(db, ctx, requester, plan, revision, None, Utc::now()).await?;
    let hash = plans_repo::revision(&mut Conn::Db(db), plan, revision)
        .await?
        .content_hash;
    Ok(Pending {
        id: plan,
        revision,
        hash,
    })
}
