//! Flux's status conditions, computed in one place.
//!
//! The rules are kstatus-compatible, as Flux's: `Reconciling=True` while a reconcile is under
//! way or being retried, `Stalled=True` (and no `Reconciling`) for errors that retrying will not
//! fix, and `Ready` True/False/Unknown carrying the generation it was computed for.
//! `lastTransitionTime` moves only when a condition's status changes.

use flux_api::meta::{
    PROGRESSING_REASON, PROGRESSING_WITH_RETRY_REASON, READY, RECONCILING, STALLED,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;

/// Kubernetes limits a condition message to 32 KiB.
const MAX_MESSAGE: usize = 32 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    True,
    False,
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::True => "True",
            Status::False => "False",
            Status::Unknown => "Unknown",
        }
    }
}

/// Sets a condition, keeping `lastTransitionTime` when the status did not change, and keeps the
/// list ordered as Flux does: Ready first, then the other types alphabetically.
pub fn set(
    conditions: &mut Vec<Condition>,
    type_: &str,
    status: Status,
    reason: &str,
    message: &str,
    generation: Option<i64>,
    now: Timestamp,
) {
    let message = truncate(message);
    match conditions.iter_mut().find(|c| c.type_ == type_) {
        Some(existing) => {
            if existing.status != status.as_str() {
                existing.last_transition_time = Time(now);
            }
            existing.status = status.as_str().to_string();
            existing.reason = reason.to_string();
            existing.message = message;
            existing.observed_generation = generation;
        }
        None => conditions.push(Condition {
            type_: type_.to_string(),
            status: status.as_str().to_string(),
            reason: reason.to_string(),
            message,
            observed_generation: generation,
            last_transition_time: Time(now),
        }),
    }
    conditions.sort_by(|a, b| {
        (a.type_ != READY, a.type_.as_str()).cmp(&(b.type_ != READY, b.type_.as_str()))
    });
}

pub fn get<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

pub fn is_true(conditions: &[Condition], type_: &str) -> bool {
    get(conditions, type_).is_some_and(|c| c.status == "True")
}

pub fn remove(conditions: &mut Vec<Condition>, type_: &str) {
    conditions.retain(|c| c.type_ != type_);
}

/// A reconcile started: `Reconciling=True` and, unless already decided for this generation,
/// `Ready=Unknown`.
pub fn mark_reconciling(
    conditions: &mut Vec<Condition>,
    generation: Option<i64>,
    message: &str,
    now: Timestamp,
) {
    set(
        conditions,
        RECONCILING,
        Status::True,
        PROGRESSING_REASON,
        message,
        generation,
        now,
    );
    let ready_is_current =
        get(conditions, READY).is_some_and(|c| c.observed_generation == generation);
    if !ready_is_current {
        set(
            conditions,
            READY,
            Status::Unknown,
            PROGRESSING_REASON,
            message,
            generation,
            now,
        );
    }
    remove(conditions, STALLED);
}

/// The reconcile succeeded: `Ready=True`, no `Reconciling`, no `Stalled`.
pub fn mark_ready(
    conditions: &mut Vec<Condition>,
    generation: Option<i64>,
    reason: &str,
    message: &str,
    now: Timestamp,
) {
    set(
        conditions,
        READY,
        Status::True,
        reason,
        message,
        generation,
        now,
    );
    remove(conditions, RECONCILING);
    remove(conditions, STALLED);
}

/// The reconcile failed. A retriable failure keeps `Reconciling=True` with reason
/// `ProgressingWithRetry`; a stalled one sets `Stalled=True` and drops `Reconciling`.
pub fn mark_failed(
    conditions: &mut Vec<Condition>,
    generation: Option<i64>,
    reason: &str,
    message: &str,
    stalled: bool,
    now: Timestamp,
) {
    set(
        conditions,
        READY,
        Status::False,
        reason,
        message,
        generation,
        now,
    );
    if stalled {
        set(
            conditions,
            STALLED,
            Status::True,
            reason,
            message,
            generation,
            now,
        );
        remove(conditions, RECONCILING);
    } else {
        let text = format!("retrying after failure: {message}");
        set(
            conditions,
            RECONCILING,
            Status::True,
            PROGRESSING_WITH_RETRY_REASON,
            &text,
            generation,
            now,
        );
        remove(conditions, STALLED);
    }
}

fn truncate(message: &str) -> String {
    if message.len() <= MAX_MESSAGE {
        return message.to_string();
    }
    let mut end = MAX_MESSAGE;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    message[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + secs).expect("time")
    }

    #[test]
    fn transition_time_moves_only_when_status_changes() {
        let mut c = Vec::new();
        set(&mut c, READY, Status::False, "A", "one", Some(1), t(0));
        set(&mut c, READY, Status::False, "B", "two", Some(2), t(10));
        let ready = get(&c, READY).expect("ready");
        assert_eq!(ready.last_transition_time, Time(t(0)));
        assert_eq!(
            (ready.reason.as_str(), ready.message.as_str()),
            ("B", "two")
        );
        assert_eq!(ready.observed_generation, Some(2));
        set(&mut c, READY, Status::True, "C", "three", Some(2), t(20));
        assert_eq!(
            get(&c, READY).expect("ready").last_transition_time,
            Time(t(20))
        );
    }

    #[test]
    fn ready_comes_first_then_types_alphabetically() {
        let mut c = Vec::new();
        set(&mut c, "Reconciling", Status::True, "R", "", None, t(0));
        set(
            &mut c,
            "ArtifactInStorage",
            Status::True,
            "S",
            "",
            None,
            t(0),
        );
        set(&mut c, READY, Status::True, "S", "", None, t(0));
        let types: Vec<_> = c.iter().map(|c| c.type_.as_str()).collect();
        assert_eq!(types, ["Ready", "ArtifactInStorage", "Reconciling"]);
    }

    #[test]
    fn lifecycle_follows_kstatus_rules() {
        let mut c = Vec::new();
        mark_reconciling(&mut c, Some(1), "reconciliation in progress", t(0));
        assert!(is_true(&c, RECONCILING));
        assert_eq!(get(&c, READY).expect("ready").status, "Unknown");

        mark_failed(
            &mut c,
            Some(1),
            "FetchFailed",
            "branch 'x' not found",
            false,
            t(1),
        );
        assert_eq!(get(&c, READY).expect("ready").status, "False");
        let rec = get(&c, RECONCILING).expect("reconciling");
        assert_eq!(rec.reason, PROGRESSING_WITH_RETRY_REASON);
        assert!(get(&c, STALLED).is_none());

        mark_failed(&mut c, Some(1), "InvalidURL", "bad url", true, t(2));
        assert!(is_true(&c, STALLED));
        assert!(get(&c, RECONCILING).is_none());

        mark_reconciling(&mut c, Some(2), "new generation", t(3));
        assert!(get(&c, STALLED).is_none());
        assert_eq!(get(&c, READY).expect("ready").status, "Unknown");

        mark_ready(&mut c, Some(2), "Succeeded", "stored artifact", t(4));
        assert!(is_true(&c, READY));
        assert!(get(&c, RECONCILING).is_none() && get(&c, STALLED).is_none());
    }

    #[test]
    fn oversized_messages_are_cut_on_a_char_boundary() {
        let mut c = Vec::new();
        let long = "é".repeat(MAX_MESSAGE);
        set(&mut c, READY, Status::False, "X", &long, None, t(0));
        let msg = &get(&c, READY).expect("ready").message;
        assert!(msg.len() <= MAX_MESSAGE && msg.chars().all(|ch| ch == 'é'));
    }
}
