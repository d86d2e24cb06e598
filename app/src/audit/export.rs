//! The NDJSON export (one event per line, then a head line) and verification of the chain, from
//! the database or from an export file, as `rollgate audit export|verify` run them.

use std::io::BufRead;

use chrono::Utc;
use serde_json::{json, Value};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::{
    chain::{parse_hash, BreakReason, ChainBreak, Verifier},
    repo::{self, format_at},
};
use crate::db::Db;

const BATCH: i64 = 1000;

/// What a verification found: how many events checked, and the first break if any.
#[derive(Debug)]
pub struct VerifyReport {
    pub checked: u64,
    pub head_seq: u64,
    pub outcome: Result<(), ChainBreak>,
}

/// Writes events `from_seq..=head` (all when `from_seq` is 1) as NDJSON; returns the count.
pub async fn export<W: AsyncWrite + Unpin>(
    db: &Db,
    out: &mut W,
    from_seq: i64,
) -> anyhow::Result<u64> {
    let (head_seq, head_chain) = repo::head(db).await?;
    let from_seq = from_seq.max(1);
    if from_seq > 1 {
        let anchor = repo::chain_hash_at(db, from_seq - 1)
            .await?
            .ok_or_else(|| {
                anyhow::anyhow!("there is no event {} to anchor the export on", from_seq - 1)
            })?;
        write_line(
            out,
            &json!({"anchor": {"seq": from_seq - 1, "chain_hash": anchor}}),
        )
        .await?;
    }
    let mut after = from_seq - 1;
    let mut count = 0;
    while after < head_seq {
        let rows = repo::list_in_order(db, after, BATCH.min(head_seq - after)).await?;
        let Some(last) = rows.last() else { break };
        after = last.seq;
        for row in rows {
            let line = json!({"event": row.event()?, "event_hash": row.event_hash, "chain_hash": row.chain_hash});
            write_line(out, &line).await?;
            count += 1;
        }
    }
    let head = json!({"head": {"seq": head_seq, "chain_hash": head_chain,
                      "exported_at": format_at(&Utc::now()), "first_seq": from_seq}});
    write_line(out, &head).await?;
    out.flush().await?;
    Ok(count)
}

async fn write_line<W: AsyncWrite + Unpin>(out: &mut W, value: &Value) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(value)?;
    line.push(b'\n');
    out.write_all(&line).await
}

/// Re-computes the whole chain stored in the database and compares it with its head row.
pub async fn verify_db(db: &Db) -> anyhow::Result<VerifyReport> {
    let (head_seq, head_chain) = repo::head(db).await?;
    let mut verifier = Verifier::default();
    let mut after = 0;
    let outcome = 'walk: loop {
        let rows = repo::list_in_order(db, after, BATCH).await?;
        let Some(last) = rows.last() else {
            break verifier.check_head(head_seq as u64, &head_chain);
        };
        after = last.seq;
        for row in rows.iter().filter(|r| r.seq <= head_seq) {
            let event = row.event()?;
            if let Err(e) = verifier.check(&event, &row.event_hash, &row.chain_hash) {
                break 'walk Err(e);
            }
        }
    };
    Ok(VerifyReport {
        checked: verifier.checked(),
        head_seq: head_seq as u64,
        outcome,
    })
}

/// Verifies an NDJSON export read from `input`.
pub fn verify_export(input: impl BufRead) -> VerifyReport {
    let mut verifier = Verifier::default();
    let mut head_seq = 0;
    let outcome = walk_export(input, &mut verifier, &mut head_seq);
    VerifyReport {
        checked: verifier.checked(),
        head_seq,
        outcome,
    }
}

fn walk_export(
    input: impl BufRead,
    verifier: &mut Verifier,
    head_seq: &mut u64,
) -> Result<(), ChainBreak> {
    let mut seen_head = false;
    for (index, line) in input.lines().enumerate() {
        let n = index + 1;
        let bad = |v: &Verifier, why: String| ChainBreak {
            seq: v.last().0 + 1,
            reason: BreakReason::Malformed(format!("line {n}: {why}")),
        };
        let line = line.map_err(|e| bad(verifier, e.to_string()))?;
        if line.trim().is_empty() {
            continue;
        }
        if seen_head {
            return Err(bad(verifier, "a line follows the head line".into()));
        }
        let value: Value =
            serde_json::from_str(&line).map_err(|e| bad(verifier, format!("not JSON ({e})")))?;
        if let Some(anchor) = value.get("anchor") {
            if n != 1 {
                return Err(bad(verifier, "the anchor must be the first line".into()));
            }
            let seq = anchor["seq"]
                .as_u64()
                .ok_or_else(|| bad(verifier, "anchor without seq".into()))?;
            let hash = anchor["chain_hash"]
                .as_str()
                .and_then(parse_hash)
                .ok_or_else(|| bad(verifier, "anchor without a valid chain_hash".into()))?;
            *verifier = Verifier::from_anchor(seq, hash);
        } else if let Some(head) = value.get("head") {
            let seq = head["seq"]
                .as_u64()
                .ok_or_else(|| bad(verifier, "head without seq".into()))?;
            let chain = head["chain_hash"]
                .as_str()
                .ok_or_else(|| bad(verifier, "head without chain_hash".into()))?;
            *head_seq = seq;
            verifier.check_head(seq, chain)?;
            seen_head = true;
        } else {
            let (Some(event), Some(eh), Some(ch)) = (
                value.get("event"),
                value["event_hash"].as_str(),
                value["chain_hash"].as_str(),
            ) else {
                return Err(bad(
                    verifier,
                    "expected an event line with event, event_hash and chain_hash".into(),
                ));
            };
            verifier.check(event, eh, ch)?;
        }
    }
    if !seen_head {
        return Err(ChainBreak {
            seq: verifier.last().0 + 1,
            reason: BreakReason::Malformed("the head line is missing (truncated export?)".into()),
        });
    }
    Ok(())
}
