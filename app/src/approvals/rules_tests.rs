//! The approval rules without a database: windows across DST, quorum, four eyes, policy input.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use proptest::prelude::*;

use super::{
    policy::{choose, parse_requirements, parse_windows, Policy, Scope},
    quorum::{
        complete, counts, group_for, may_decide, tally, Approval, Hands, Refusal, Requirement,
    },
    windows::{is_open, next_start, resolve, Window},
};

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

fn saturday_night_berlin() -> Window {
    Window::Weekly {
        day: Weekday::Sat,
        start: hm(2, 0),
        end: hm(6, 0),
        tz: "Europe/Berlin".into(),
    }
}

#[test]
fn a_weekly_window_keeps_its_local_time_across_the_autumn_dst_change() {
    let w = [saturday_night_berlin()];
    // 2026-10-24 is a Saturday in summer time (UTC+2): 02:00 local is 00:00 UTC.
    assert!(is_open(&w, utc(2026, 10, 24, 0, 30)));
    // One week later Berlin is on winter time (UTC+1): 02:00 local is 01:00 UTC.
    assert!(!is_open(&w, utc(2026, 10, 31, 0, 30)));
    assert!(is_open(&w, utc(2026, 10, 31, 1, 0)));
    assert_eq!(
        next_start(&w, utc(2026, 10, 26, 12, 0)),
        Some(utc(2026, 10, 31, 1, 0))
    );
}

#[test]
fn a_window_starting_in_the_skipped_spring_hour_starts_when_the_clock_jumps() {
    let berlin: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    // 2027-03-28: clocks go from 02:00 to 03:00; 02:30 does not exist and means 03:00 CEST.
    let local = NaiveDate::from_ymd_opt(2027, 3, 28)
        .unwrap()
        .and_time(hm(2, 30));
    assert_eq!(resolve(berlin, local), utc(2027, 3, 28, 1, 0));
    // In the repeated autumn hour the first 02:30 (still summer time) is meant.
    let local = NaiveDate::from_ymd_opt(2026, 10, 25)
        .unwrap()
        .and_time(hm(2, 30));
    assert_eq!(resolve(berlin, local), utc(2026, 10, 25, 0, 30));
}

#[test]
fn an_overnight_window_ends_the_next_day() {
    let w = [Window::Weekly {
        day: Weekday::Fri,
        start: hm(22, 0),
        end: hm(2, 0),
        tz: "UTC".into(),
    }];
    // 2026-11-27 is a Friday.
    assert!(is_open(&w, utc(2026, 11, 28, 1, 59)));
    assert!(!is_open(&w, utc(2026, 11, 28, 2, 0)));
}

#[test]
fn a_blackout_closes_an_open_window_and_the_next_start_skips_it() {
    let mut w = parse_windows(
        "weekly Sat 02:00-06:00 UTC\nblackout 2026-11-28 00:00 to 2026-11-28 04:00 UTC",
    )
    .unwrap();
    assert!(!is_open(&w, utc(2026, 11, 28, 3, 0)));
    assert_eq!(
        next_start(&w, utc(2026, 11, 27, 12, 0)),
        Some(utc(2026, 11, 28, 4, 0))
    );
    w.retain(|x| !x.is_blackout());
    assert_eq!(
        next_start(&w, utc(2026, 11, 27, 12, 0)),
        Some(utc(2026, 11, 28, 2, 0))
    );
}

#[test]
fn without_windows_a_rollback_may_start_at_once_except_in_a_blackout() {
    let now = utc(2026, 12, 31, 12, 0);
    assert_eq!(next_start(&[], now), Some(now));
    let blackout = parse_windows("blackout 2026-12-31 00:00 to 2027-01-02 00:00 UTC").unwrap();
    assert_eq!(next_start(&blackout, now), Some(utc(2027, 1, 2, 0, 0)));
}

#[test]
fn window_lines_with_mistakes_are_refused_with_their_line_and_problem() {
    let err = |text: &str| parse_windows(text).unwrap_err().message;
    assert!(err("weekly Sat 02:00-06:00 Mars/Olympus")
        .contains("Line 1: `Mars/Olympus` is not a time zone"));
    assert!(err("\nonce 2026-12-25 04:00 to 2026-12-24 22:00 UTC")
        .contains("Line 2: the window ends (2026-12-24 22:00) before it starts"));
    assert!(err("weekly Sat 02:00-02:00 UTC").contains("ends when it starts"));
    assert!(err("weekly Caturday 02:00-03:00 UTC").contains("is not a weekday"));
    assert!(err("monthly 1 02:00-03:00 UTC").contains("`monthly` is not a kind of window"));
}

#[test]
fn windows_survive_a_round_trip_through_their_text_form() {
    let text = "weekly Sat 02:00-06:00 Europe/Berlin\nonce 2026-12-24 22:00 to 2026-12-25 04:00 America/New_York\nblackout 2026-12-31 00:00 to 2027-01-02 00:00 UTC";
    let parsed = parse_windows(text).unwrap();
    assert_eq!(super::policy::format_windows(&parsed), text);
}

fn groups() -> HashMap<String, (i64, String)> {
    [(1, "Product"), (2, "Data governance"), (3, "Engineering")]
        .into_iter()
        .map(|(id, n)| (n.to_lowercase(), (id, n.to_string())))
        .collect()
}

#[test]
fn requirements_name_existing_groups_once_with_a_sensible_count() {
    let r = parse_requirements("Product: 1\ndata governance: 2", &groups()).unwrap();
    assert_eq!(
        r.iter().map(|r| (r.group_id, r.count)).collect::<Vec<_>>(),
        vec![(1, 1), (2, 2)]
    );
    let err = |t: &str| parse_requirements(t, &groups()).unwrap_err().message;
    assert!(err("Legal: 1").contains("no group named `Legal`"));
    assert!(err("Product: 0").contains("not a number of approvals"));
    assert!(err("Product: 1\nproduct: 2").contains("listed twice"));
    assert!(err("").contains("at least one group"));
}

fn req(group_id: i64, count: u32) -> Requirement {
    Requirement {
        group_id,
        group: format!("g{group_id}"),
        count,
        break_glass: false,
    }
}

fn approval(approver_id: i64, group_id: i64, hash: &str, at: DateTime<Utc>) -> Approval {
    Approval {
        approver_id,
        group_id,
        content_hash: hash.into(),
        decided_at: at,
        voided: false,
    }
}

#[test]
fn no_one_who_shaped_the_plan_or_made_the_change_decides() {
    let required = [req(1, 1)];
    let mine: HashSet<i64> = [1].into();
    let hands = Hands {
        drafter: 7,
        revision_authors: vec![7, 10],
        submitters: vec![11],
        change_author: 8,
    };
    assert_eq!(
        may_decide(7, &mine, &hands, &required),
        Err(Refusal::OwnPlan)
    );
    assert_eq!(
        may_decide(8, &mine, &hands, &required),
        Err(Refusal::OwnChange)
    );
    assert_eq!(
        may_decide(10, &mine, &hands, &required),
        Err(Refusal::OwnRevision)
    );
    assert_eq!(
        may_decide(11, &mine, &hands, &required),
        Err(Refusal::Submitted)
    );
    assert_eq!(
        may_decide(9, &HashSet::from([5]), &hands, &required),
        Err(Refusal::NotInGroup)
    );
    assert_eq!(may_decide(9, &mine, &hands, &required), Ok(()));
}

#[test]
fn approvals_of_another_revision_voided_or_expired_do_not_count() {
    let now = utc(2026, 11, 23, 12, 0);
    let day = Duration::hours(24);
    let fresh = approval(1, 1, "h2", now - Duration::hours(1));
    assert!(counts(&fresh, "h2", day, now));
    assert!(!counts(&fresh, "h3", day, now));
    assert!(!counts(
        &Approval {
            voided: true,
            ..fresh.clone()
        },
        "h2",
        day,
        now
    ));
    assert!(!counts(&approval(1, 1, "h2", now - day), "h2", day, now));
}

#[test]
fn a_person_in_two_groups_counts_for_the_first_group_still_missing_approvals() {
    let required = [req(1, 1), req(2, 1)];
    let both: HashSet<i64> = [1, 2].into();
    let now = utc(2026, 11, 23, 12, 0);
    let t = tally(&required, &[], "h", Duration::hours(24), now);
    assert_eq!(group_for(&required, &t, &both), Some(1));
    let t = tally(
        &required,
        &[approval(5, 1, "h", now)],
        "h",
        Duration::hours(24),
        now,
    );
    assert_eq!(group_for(&required, &t, &both), Some(2));
}

#[test]
fn a_break_glass_submission_needs_one_more_approval_from_the_named_group() {
    let policy = Policy {
        id: 1,
        name: "Default".into(),
        scope: Scope::Default,
        requirements: vec![req(1, 1), req(3, 1)],
        expiry_hours: 24,
        windows: vec![],
        break_glass: Some((3, "g3".into())),
        version: 1,
    };
    let r = policy.requirements_for(true);
    assert_eq!(
        r.iter()
            .map(|r| (r.group_id, r.count, r.break_glass))
            .collect::<Vec<_>>(),
        vec![(1, 1, false), (3, 2, true)]
    );
    assert_eq!(policy.requirements_for(false), policy.requirements);
}

#[test]
fn the_most_specific_policy_governs_a_plan() {
    let p = |id, scope| Policy {
        id,
        name: format!("p{id}"),
        scope,
        requirements: vec![],
        expiry_hours: 24,
        windows: vec![],
        break_glass: None,
        version: 1,
    };
    let all = [
        p(1, Scope::Default),
        p(2, Scope::Tag("pii".into())),
        p(3, Scope::Pipeline("orders_dag".into())),
    ];
    assert_eq!(choose(&all, &[], &[]).map(|p| p.id), Some(1));
    assert_eq!(choose(&all, &["PII".into()], &[]).map(|p| p.id), Some(2));
    assert_eq!(
        choose(&all, &["pii".into()], &["orders_dag".into()]).map(|p| p.id),
        Some(3)
    );
}

proptest! {
    /// Quorum holds exactly when every group has its count of distinct, valid approvers, and
    /// nobody is counted twice however many decisions they appear in.
    #[test]
    fn quorum_counts_each_person_once_and_only_valid_approvals(
        counts_needed in proptest::collection::vec(1u32..3, 1..4),
        decisions in proptest::collection::vec((0i64..6, 0usize..4, any::<bool>(), any::<bool>(), 0i64..48), 0..24),
    ) {
        let now = utc(2026, 11, 23, 12, 0);
        let required: Vec<Requirement> = counts_needed.iter().enumerate().map(|(i, c)| req(i as i64, *c)).collect();
        let approvals: Vec<Approval> = decisions.iter().map(|(who, g, stale, voided, age)| Approval {
            approver_id: *who,
            group_id: (*g % required.len()) as i64,
            content_hash: if *stale { "old".into() } else { "cur".into() },
            decided_at: now - Duration::hours(*age),
            voided: *voided,
        }).collect();
        let t = tally(&required, &approvals, "cur", Duration::hours(24), now);
        let mut people: Vec<i64> = t.iter().flat_map(|g| g.approvers.clone()).collect();
        let n = people.len();
        people.sort();
        people.dedup();
        prop_assert_eq!(people.len(), n);
        for g in &t {
            for who in &g.approvers {
                prop_assert!(approvals.iter().any(|a| a.approver_id == *who && a.group_id == g.requirement.group_id && counts(a, "cur", Duration::hours(24), now)));
            }
        }
        prop_assert_eq!(complete(&t), t.iter().all(|g| g.approvers.len() as u32 >= g.requirement.count));
    }

    /// Whatever the windows, the next start is open and nothing earlier (on a 15-minute grid) is.
    #[test]
    fn the_next_start_is_the_first_open_moment(
        day in 0u32..7, start_h in 0u32..24, len_h in 1u32..10, offset_h in 0i64..400,
        tz in prop::sample::select(vec!["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]),
    ) {
        let weekday = [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun][day as usize];
        let w = [Window::Weekly { day: weekday, start: hm(start_h, 0), end: hm((start_h + len_h) % 24, 0), tz: tz.into() }];
        let now = utc(2026, 10, 20, 0, 0) + Duration::hours(offset_h);
        let next = next_start(&w, now).expect("a weekly window opens within a year");
        prop_assert!(is_open(&w, next));
        prop_assert!(next >= now && next - now <= Duration::days(8));
        let mut t = now;
        while t + Duration::minutes(15) <= next {
            prop_assert!(!is_open(&w, t));
            t += Duration::minutes(15);
        }
    }
}
