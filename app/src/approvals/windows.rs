//! Maintenance windows and blackouts: when a signed-off rollback may start. Weekly slots are
//! local times in a named time zone, so "Saturday 02:00 Berlin" stays 02:00 across DST changes;
//! a slot starting in a skipped hour starts when the clock jumps, an ambiguous one at its first
//! occurrence.

use chrono::{NaiveDateTime, NaiveTime, Weekday};
#[cfg(feature = "ssr")]
pub use eval::{is_open, next_start, resolve};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Window {
    /// Every week on `day` from `start` to `end` local time (an `end` not after `start` is the next day).
    Weekly {
        day: Weekday,
        start: NaiveTime,
        end: NaiveTime,
        tz: String,
    },
    /// Open once, local times.
    Once {
        start: NaiveDateTime,
        end: NaiveDateTime,
        tz: String,
    },
    /// Closed, local times: nothing starts inside, whatever the other windows say.
    Blackout {
        start: NaiveDateTime,
        end: NaiveDateTime,
        tz: String,
    },
}

impl Window {
    pub fn is_blackout(&self) -> bool {
        matches!(self, Self::Blackout { .. })
    }
}

/// Evaluating windows needs the time zone database, which only the server carries.
#[cfg(feature = "ssr")]
mod eval {
    use chrono::{
        DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
        Utc,
    };
    use chrono_tz::Tz;

    use super::Window;

    /// The instant a local time names: the first of two in a repeated hour, the moment the clock
    /// jumps for a time inside a skipped hour.
    pub fn resolve(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
        match tz.from_local_datetime(&local) {
            LocalResult::Single(t) => t.with_timezone(&Utc),
            LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
            LocalResult::None => {
                // Walk forward to the first valid local minute (gaps are at most a few hours).
                let mut probe = local;
                for _ in 0..(24 * 60) {
                    probe += Duration::minutes(1);
                    if let Some(t) = tz.from_local_datetime(&probe).earliest() {
                        return t.with_timezone(&Utc);
                    }
                }
                Utc.from_utc_datetime(&local)
            }
        }
    }

    fn zone(name: &str) -> Tz {
        name.parse().unwrap_or(Tz::UTC)
    }

    impl Window {
        fn tz(&self) -> Tz {
            match self {
                Self::Weekly { tz, .. } | Self::Once { tz, .. } | Self::Blackout { tz, .. } => {
                    zone(tz)
                }
            }
        }

        /// The occurrences `[start, end)` of this window that may matter between `from` and `to`.
        pub fn occurrences(
            &self,
            from: DateTime<Utc>,
            to: DateTime<Utc>,
        ) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
            let tz = self.tz();
            match self {
                Self::Once { start, end, .. } | Self::Blackout { start, end, .. } => {
                    vec![(resolve(tz, *start), resolve(tz, *end))]
                }
                Self::Weekly {
                    day, start, end, ..
                } => {
                    let first = from.with_timezone(&tz).date_naive() - Duration::days(7);
                    let last = to.with_timezone(&tz).date_naive() + Duration::days(1);
                    let mut out = Vec::new();
                    let mut date = first;
                    while date <= last {
                        if date.weekday() == *day {
                            out.push(weekly_occurrence(tz, date, *start, *end));
                        }
                        date += Duration::days(1);
                    }
                    out
                }
            }
        }
    }

    fn weekly_occurrence(
        tz: Tz,
        date: NaiveDate,
        start: NaiveTime,
        end: NaiveTime,
    ) -> (DateTime<Utc>, DateTime<Utc>) {
        let end_date = if end <= start {
            date + Duration::days(1)
        } else {
            date
        };
        (
            resolve(tz, date.and_time(start)),
            resolve(tz, end_date.and_time(end)),
        )
    }

    /// Whether a rollback may start at `at`: never inside a blackout; otherwise inside an open
    /// window, or at any time when no open windows are defined.
    pub fn is_open(windows: &[Window], at: DateTime<Utc>) -> bool {
        let inside = |w: &Window| {
            w.occurrences(at, at)
                .into_iter()
                .any(|(s, e)| s <= at && at < e)
        };
        if windows.iter().filter(|w| w.is_blackout()).any(inside) {
            return false;
        }
        let mut open = windows.iter().filter(|w| !w.is_blackout()).peekable();
        open.peek().is_none() || open.any(inside)
    }

    /// The first moment at or after `now` when a rollback may start (within a year), if any.
    pub fn next_start(windows: &[Window], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if is_open(windows, now) {
            return Some(now);
        }
        let horizon = now + Duration::days(366);
        let mut candidates: Vec<DateTime<Utc>> = windows
            .iter()
            .flat_map(|w| {
                w.occurrences(now, horizon)
                    .into_iter()
                    .map(move |(s, e)| if w.is_blackout() { e } else { s })
            })
            .filter(|t| *t > now && *t <= horizon)
            .collect();
        candidates.sort();
        candidates.into_iter().find(|t| is_open(windows, *t))
    }
}
