//! SQL for pipeline connectors. The secret column holds ciphertext or nothing.

use chrono::{DateTime, Utc};

use super::model::{Connector, ConnectorKind, ProbeReport, SecretSource};
use crate::{
    conn_run,
    db::{Conn, DbError, Tx},
    tx_run,
};

#[derive(sqlx::FromRow)]
pub struct Row {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub base_url: String,
    pub username: String,
    pub secret_env: Option<String>,
    pub secret_encrypted: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub last_test_at: Option<DateTime<Utc>>,
    pub last_test_ok: Option<bool>,
    pub last_test_report: Option<String>,
}

impl Row {
    pub fn connector(&self) -> Connector {
        Connector {
            id: self.id,
            name: self.name.clone(),
            kind: ConnectorKind::parse(&self.kind).unwrap_or(ConnectorKind::Webhook),
            base_url: self.base_url.clone(),
            username: self.username.clone(),
            secret: match (&self.secret_env, &self.secret_encrypted) {
                (Some(env), _) => SecretSource::Env(env.clone()),
                (None, Some(_)) => SecretSource::Stored,
                (None, None) => SecretSource::None,
            },
            updated_at: self.updated_at,
            last_test: match (self.last_test_at, self.last_test_ok, &self.last_test_report) {
                (Some(at), Some(ok), Some(report)) => Some((
                    at,
                    ProbeReport {
                        ok,
                        findings: serde_json::from_str(report).unwrap_or_default(),
                    },
                )),
                _ => None,
            },
        }
    }
}

const COLUMNS: &str =
    "id, name, kind, base_url, username, secret_env, secret_encrypted, updated_at, \
                       last_test_at, last_test_ok, last_test_report";

pub async fn list(conn: &mut Conn<'_>) -> Result<Vec<Row>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM connectors ORDER BY name_lower");
    Ok(conn_run!(conn, |c| sqlx::query_as(&sql)
        .fetch_all(c)
        .await)?)
}

pub async fn get(conn: &mut Conn<'_>, id: i64) -> Result<Row, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM connectors WHERE id = $1");
    Ok(conn_run!(conn, |c| sqlx::query_as(&sql)
        .bind(id)
        .fetch_one(c)
        .await)?)
}

/// What a save writes.
pub struct Fields<'a> {
    pub name: &'a str,
    pub kind: ConnectorKind,
    pub base_url: &'a str,
    pub username: &'a str,
    pub secret_env: Option<&'a str>,
    pub secret_encrypted: Option<&'a str>,
}

pub async fn insert(tx: &mut Tx, f: &Fields<'_>, now: DateTime<Utc>) -> Result<i64, DbError> {
    let sql = "INSERT INTO connectors (name, name_lower, kind, base_url, username, secret_env, secret_encrypted, created_at, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id";
    Ok(tx_run!(tx, |c| sqlx::query_scalar(sql)
        .bind(f.name)
        .bind(f.name.to_lowercase())
        .bind(f.kind.as_str())
        .bind(f.base_url)
        .bind(f.username)
        .bind(f.secret_env)
        .bind(f.secret_encrypted)
        .bind(now)
        .fetch_one(c)
        .await)?)
}

pub async fn update(
    tx: &mut Tx,
    id: i64,
    f: &Fields<'_>,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let sql = "UPDATE connectors SET name = $1, name_lower = $2, kind = $3, base_url = $4, username = $5, \
               secret_env = $6, secret_encrypted = $7, updated_at = $8 WHERE id = $9";
    tx_run!(tx, |c| sqlx::query(sql)
        .bind(f.name)
        .bind(f.name.to_lowercase())
        .bind(f.kind.as_str())
        .bind(f.base_url)
        .bind(f.username)
        .bind(f.secret_env)
        .bind(f.secret_encrypted)
        .bind(now)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// DAG ids bound to job components of this connector (production and rollback).
pub async fn bound_dags(
    conn: &mut Conn<'_>,
    id: i64,
) -> Result<Vec<(String, Option<String>, Option<String>)>, DbError> {
    let sql = "SELECT name, dag_id, rollback_dag_id FROM components WHERE connector_id = $1 ORDER BY name_lower";
    Ok(conn_run!(conn, |c| sqlx::query_as(sql)
        .bind(id)
        .fetch_all(c)
        .await)?)
}

pub async fn record_test(
    tx: &mut Tx,
    id: i64,
    report: &ProbeReport,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let sql = "UPDATE connectors SET last_test_at = $1, last_test_ok = $2, last_test_report = $3 WHERE id = $4";
    let findings = serde_json::to_string(&report.findings).unwrap_or_else(|_| "[]".into());
    tx_run!(tx, |c| sqlx::query(sql)
        .bind(now)
        .bind(report.ok)
        .bind(findings)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}
