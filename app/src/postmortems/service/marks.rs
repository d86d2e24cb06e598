//! The writers' marks and own entries on the timeline.

use super::*;

/// The author's own entry on the timeline, or a mark on one of its events.
#[derive(Debug, Clone)]
pub enum EntryChange {
    Add {
        at: DateTime<Utc>,
        text: String,
        moment: Option<Moment>,
    },
    Mark {
        seq: i64,
        starred: bool,
        moment: Option<Moment>,
        note: String,
    },
    Remove {
        entry_id: i64,
    },
}

/// Changes the timeline on top of `version` (which it bumps: a review covers the timeline too).
#[tracing::instrument(skip_all, fields(id, version))]
pub async fn change_timeline(
    db: &Db,
    ctx: &Ctx,
    who: &Actor,
    id: i64,
    version: i64,
    change: EntryChange,
    now: DateTime<Utc>,
) -> Result<(), PostmortemError> {
    let mut tx = db.begin().await?;
    let p = repo::get(&mut Conn::Tx(&mut tx), id).await?;
    let (action, after) = match &change {
        EntryChange::Add { at, text, moment } => {
            let text = crate::validate::text("text", text, 500, true, false)
                .map_err(|e| PostmortemError::Invalid(vec![e]))?;
            let entry = repo::NewEntry {
                audit_seq: None,
                at: Some(*at),
                text: &text,
                moment: *moment,
                starred: false,
            };
            let entry_id = repo::put_entry(&mut tx, id, who.id, &entry, now).await?;
            (
                "postmortem.entry_added",
                json!({"entry_id": entry_id, "at": at.to_rfc3339(), "text": text, "moment": moment.map(Moment::as_str)}),
            )
        }
        EntryChange::Mark {
            seq,
            starred,
            moment,
            note,
        } => {
            let note = crate::validate::text("note", note, 500, false, false)
                .map_err(|e| PostmortemError::Invalid(vec![e]))?;
            on_timeline(&mut tx, &p, *seq).await?;
            let entry = repo::NewEntry {
                audit_seq: Some(*seq),
                at: None,
                text: &note,
                moment: *moment,
                starred: *starred,
            };
            repo::put_entry(&mut tx, id, who.id, &entry, now).await?;
            (
                "postmortem.entry_marked",
                json!({"audit_seq": seq, "starred": starred, "moment": moment.map(Moment::as_str), "note": note}),
            )
        }
        EntryChange::Remove { entry_id } => {
            if !repo::delete_entry(&mut tx, id, *entry_id).await? {
                return Err(PostmortemError::NotFound);
            }
            ("postmortem.entry_removed", json!({"entry_id": entry_id}))
        }
    };
    if !repo::touch(&mut tx, id, version, now).await? {
        return Err(PostmortemError::Stale);
    }
    append(&mut tx, ctx, event(action, id, Value::Null, after)).await?;
    tx.commit().await?;
    Ok(())
}

/// A mark must name an event of this postmortem's timeline.
async fn on_timeline(tx: &mut Tx, p: &Postmortem, seq: i64) -> Result<(), PostmortemError> {
    let mut conn = Conn::Tx(tx);
    let (plans, executions) = repo::rollbacks_of(&mut conn, p.change_id).await?;
    let plan_ids: Vec<i64> = plans.iter().map(|(id, _)| *id).collect();
    let events = repo::source_events(
        &mut conn,
        p.change_id,
        &plan_ids,
        &executions,
        TIMELINE_LIMIT,
    )
    .await?;
    if events
        .iter()
        .any(|e| e.seq == seq && timeline::timeline_label(&e.action).is_some())
    {
        Ok(())
    } else {
        Err(PostmortemError::Invalid(vec![FieldError::new(
            "seq",
            "is not an event of this postmortem's timeline",
        )]))
    }
}
