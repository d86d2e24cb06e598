//! Writing a postmortem, sending it for review, and publishing it as a version.

use super::*;

/// The text a writer saves.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub sections: Sections,
    pub detected_at: Option<DateTime<Utc>>,
    pub no_actions_reason: Option<String>,
}

fn changed_sections(before: &Postmortem, after: &Draft) -> (Value, Value) {
    let (mut b, mut a) = (serde_json::Map::new(), serde_json::Map::new());
    for s in crate::postmortems::model::SECTIONS {
        let (old, new) = (
            before.section(s.field),
            after.sections.get(s.field).map_or("", String::as_str),
        );
        if old != new {
            b.insert(s.field.into(), json!(old));
            a.insert(s.field.into(), json!(new));
        }
    }
    if before.detected_at != after.detected_at {
        b.insert(
            "detected_at".into(),
            json!(before.detected_at.map(|t| t.to_rfc3339())),
        );
        a.insert(
            "detected_at".into(),
            json!(after.detected_at.map(|t| t.to_rfc3339())),
        );
    }
    if before.no_actions_reason != after.no_actions_reason {
        b.insert("no_actions_reason".into(), json!(before.no_actions_reason));
        a.insert("no_actions_reason".into(), json!(after.no_actions_reason));
    }
    (Value::Object(b), Value::Object(a))
}

/// Saves the writer's text on top of `version`. Editing a published postmortem starts its next
/// version (a draft again; the published versions stay as they were).
#[tracing::instrument(skip_all, fields(id, version))]
pub async fn save(
    db: &Db,
    ctx: &Ctx,
    id: i64,
    version: i64,
    draft: Draft,
    now: DateTime<Utc>,
) -> Result<(), PostmortemError> {
    let sections = check_sections(&draft.sections)?;
    let draft = Draft { sections, ..draft };
    let mut tx = db.begin().await?;
    let before = repo::get(&mut Conn::Tx(&mut tx), id).await?;
    let (b, a) = changed_sections(&before, &draft);
    if a.as_object().is_some_and(|m| m.is_empty()) {
        return Ok(()); // nothing changed: nothing recorded
    }
    let status = match before.status {
        PostmortemStatus::Published => PostmortemStatus::Draft,
        s => s,
    };
    let save = repo::Save {
        sections: &draft.sections,
        detected_at: draft.detected_at,
        no_actions_reason: draft.no_actions_reason.as_deref(),
        status,
    };
    if !repo::save(&mut tx, id, version, &save, now).await? {
        return Err(PostmortemError::Stale);
    }
    let mut after = a;
    if status != before.status {
        after["status"] = json!(status.as_str());
    }
    append(&mut tx, ctx, event("postmortem.edited", id, b, after)).await?;
    tx.commit().await?;
    Ok(())
}

/// What publishing needs, checked against the stored copy.
async fn ready(tx: &mut Tx, p: &Postmortem) -> Result<(), PostmortemError> {
    let count = items::of_postmortem(&mut Conn::Tx(tx), p.id).await?.len();
    let problems = publish_problems(&p.sections, count, p.no_actions_reason.as_deref());
    if problems.is_empty() {
        Ok(())
    } else {
        Err(PostmortemError::Invalid(problems))
    }
}

/// Asks for a review: the document must be complete already.
pub async fn submit(
    db: &Db,
    ctx: &Ctx,
    id: i64,
    version: i64,
    now: DateTime<Utc>,
) -> Result<(), PostmortemError> {
    let mut tx = db.begin().await?;
    let p = repo::get(&mut Conn::Tx(&mut tx), id).await?;
    if p.status != PostmortemStatus::Draft {
        return Err(PostmortemError::Refused(format!(
            "This postmortem is {}, not a draft.",
            p.status.label().to_lowercase()
        )));
    }
    ready(&mut tx, &p).await?;
    if !repo::set_status(&mut tx, id, version, PostmortemStatus::InReview, now).await? {
        return Err(PostmortemError::Stale);
    }
    let after = json!({"status": "in_review", "version": version + 1});
    append(
        &mut tx,
        ctx,
        event(
            "postmortem.submitted",
            id,
            json!({"status": "draft"}),
            after,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn not_the_author(p: &Postmortem, who: &Actor) -> Result<(), PostmortemError> {
    if p.author.id == who.id {
        return Err(PostmortemError::Refused(
            "You wrote this postmortem: someone else must review it.".into(),
        ));
    }
    Ok(())
}

/// The reviewer sends it back to its writers with what to change.
pub async fn send_back(
    db: &Db,
    ctx: &Ctx,
    who: &Actor,
    id: i64,
    version: i64,
    note: &str,
    now: DateTime<Utc>,
) -> Result<(), PostmortemError> {
    let note = crate::validate::text("note", note, 2000, true, true)
        .map_err(|e| PostmortemError::Invalid(vec![e]))?;
    let mut tx = db.begin().await?;
    let p = repo::get(&mut Conn::Tx(&mut tx), id).await?;
    not_the_author(&p, who)?;
    if p.status != PostmortemStatus::InReview {
        return Err(PostmortemError::Refused(
            "Only a postmortem in review can be sent back.".into(),
        ));
    }
    if !repo::set_status(&mut tx, id, version, PostmortemStatus::Draft, now).await? {
        return Err(PostmortemError::Stale);
    }
    let after = json!({"status": "draft", "note": note});
    append(
        &mut tx,
        ctx,
        event(
            "postmortem.sent_back",
            id,
            json!({"status": "in_review"}),
            after,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Publishes the copy the reviewer read (`version`): stored as the next published version.
#[tracing::instrument(skip_all, fields(id, version))]
pub async fn publish(
    db: &Db,
    ctx: &Ctx,
    who: &Actor,
    id: i64,
    version: i64,
    now: DateTime<Utc>,
) -> Result<i64, PostmortemError> {
    let view = view(db, id).await?;
    let p = &view.postmortem;
    not_the_author(p, who)?;
    if p.status != PostmortemStatus::InReview {
        return Err(PostmortemError::Refused(
            "Only a postmortem in review can be published: its writers submit it first.".into(),
        ));
    }
    if p.version != version {
        return Err(PostmortemError::Stale);
    }
    let mut tx = db.begin().await?;
    ready(&mut tx, p).await?;
    let body = PublishedVersion {
        number: p.published_versions + 1,
        published_by: who.username.clone(),
        published_at: now,
        sections: p.sections.clone(),
        figures: view.figures.clone(),
        timeline: view.timeline.clone(),
        items: view.items.clone(),
        no_actions_reason: p.no_actions_reason.clone(),
    };
    let body = serde_json::to_string(&body).map_err(|e| PostmortemError::Unexpected(e.into()))?;
    let Some(number) = repo::publish(&mut tx, id, version, who.id, &body, now).await? else {
        return Err(PostmortemError::Stale);
    };
    let after = json!({"status": "published", "published_version": number, "reviewed_version": version,
                       "body_sha256": hex::encode(Sha256::digest(body.as_bytes()))});
    append(
        &mut tx,
        ctx,
        event(
            "postmortem.published",
            id,
            json!({"status": "in_review"}),
            after,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(number)
}

/// A published version as it was published.
pub async fn published(db: &Db, id: i64, number: i64) -> Result<PublishedVersion, PostmortemError> {
    let body = repo::version_body(&mut Conn::Db(db), id, number).await?;
    serde_json::from_str(&body).map_err(|e| PostmortemError::Unexpected(e.into()))
}
