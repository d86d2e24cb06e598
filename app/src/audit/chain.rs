//! The audit chain, format v1: event hash = SHA-256(canonical event); chain hash =
//! SHA-256("rollgate-audit-v1" || 0x00 || u64_be(seq) || previous chain hash || event hash).

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::canonical::{canonical_bytes, CanonicalError};

pub const DOMAIN: &[u8] = b"rollgate-audit-v1";
pub const ZERO_HASH: [u8; 32] = [0; 32];
/// The members an event has, exactly.
pub const EVENT_MEMBERS: [&str; 9] = [
    "action",
    "actor",
    "after",
    "at",
    "before",
    "entity_id",
    "entity_type",
    "request_id",
    "seq",
];

pub fn event_hash(event: &Value) -> Result<[u8; 32], CanonicalError> {
    Ok(Sha256::digest(canonical_bytes(event)?).into())
}

pub fn chain_hash(seq: u64, previous: &[u8; 32], event_hash: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update([0u8]);
    h.update(seq.to_be_bytes());
    h.update(previous);
    h.update(event_hash);
    h.finalize().into()
}

/// Why a chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BreakReason {
    #[error("the event was edited (its hash does not match its content)")]
    EventEdited,
    #[error("the stored chain hash was edited or the previous link is missing")]
    ChainHashEdited,
    #[error("expected seq {expected} here: a row is missing, inserted or out of order")]
    OutOfSequence { expected: u64 },
    #[error("the head says seq {head_seq} with another chain hash: events are missing at the end or the head was edited")]
    HeadMismatch { head_seq: u64 },
    #[error("malformed: {0}")]
    Malformed(String),
}

/// The first broken link: where (seq, or the line of an export) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("chain broken at seq {seq}: {reason}")]
pub struct ChainBreak {
    pub seq: u64,
    pub reason: BreakReason,
}

/// Walks a chain in order, from zeros or from an anchor, checking each link.
#[derive(Debug, Clone)]
pub struct Verifier {
    last_seq: u64,
    last_chain: [u8; 32],
    checked: u64,
}

impl Default for Verifier {
    fn default() -> Self {
        Self {
            last_seq: 0,
            last_chain: ZERO_HASH,
            checked: 0,
        }
    }
}

impl Verifier {
    /// Starts after `seq`, whose chain hash is `chain_hash` (a range export's anchor).
    pub fn from_anchor(seq: u64, chain_hash: [u8; 32]) -> Self {
        Self {
            last_seq: seq,
            last_chain: chain_hash,
            checked: 0,
        }
    }

    pub fn checked(&self) -> u64 {
        self.checked
    }

    pub fn last(&self) -> (u64, [u8; 32]) {
        (self.last_seq, self.last_chain)
    }

    /// Checks the next event against its stored hashes (hex).
    pub fn check(
        &mut self,
        event: &Value,
        stored_event: &str,
        stored_chain: &str,
    ) -> Result<(), ChainBreak> {
        let expected = self.last_seq + 1;
        let seq = event_seq(event)
            .ok_or_else(|| self.broken(expected, malformed("event has no integer seq")))?;
        if seq != expected {
            return Err(self.broken(seq, BreakReason::OutOfSequence { expected }));
        }
        check_members(event).map_err(|m| self.broken(seq, malformed(&m)))?;
        let recomputed =
            event_hash(event).map_err(|e| self.broken(seq, malformed(&e.to_string())))?;
        if hex::encode(recomputed) != stored_event {
            return Err(self.broken(seq, BreakReason::EventEdited));
        }
        let chain = chain_hash(seq, &self.last_chain, &recomputed);
        if hex::encode(chain) != stored_chain {
            return Err(self.broken(seq, BreakReason::ChainHashEdited));
        }
        self.last_seq = seq;
        self.last_chain = chain;
        self.checked += 1;
        Ok(())
    }

    /// Checks that the chain ends where its head says.
    pub fn check_head(&self, head_seq: u64, head_chain: &str) -> Result<(), ChainBreak> {
        if head_seq != self.last_seq || head_chain != hex::encode(self.last_chain) {
            return Err(ChainBreak {
                seq: self.last_seq + 1,
                reason: BreakReason::HeadMismatch { head_seq },
            });
        }
        Ok(())
    }

    fn broken(&self, seq: u64, reason: BreakReason) -> ChainBreak {
        ChainBreak { seq, reason }
    }
}

fn malformed(message: &str) -> BreakReason {
    BreakReason::Malformed(message.to_string())
}

fn event_seq(event: &Value) -> Option<u64> {
    event.get("seq").and_then(Value::as_u64)
}

fn check_members(event: &Value) -> Result<(), String> {
    let map = event.as_object().ok_or("the event is not a JSON object")?;
    let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
    keys.sort_unstable();
    if keys != EVENT_MEMBERS {
        return Err(format!(
            "the event must have exactly the members {EVENT_MEMBERS:?}"
        ));
    }
    Ok(())
}

/// Parses a 64-character lowercase hex hash.
pub fn parse_hash(hex_str: &str) -> Option<[u8; 32]> {
    let bytes = hex::decode(hex_str).ok()?;
    bytes.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vector_one() -> Value {
        json!({"seq":1,"at":"2026-01-02T03:04:05.000006Z","actor":{"id":7,"username":"ana"},
               "action":"user.created","entity_type":"user","entity_id":"8","request_id":"req-1",
               "before":null,"after":{"username":"bo","roles":["auditor"],"active":true}})
    }

    fn vector_two() -> Value {
        serde_json::from_str(r#"{"seq": 2, "at": "2026-01-02T03:04:06.000000Z", "actor": null, "action": "plan.rejected", "entity_type": "plan", "entity_id": "42", "request_id": null, "before": {"status": "submitted"}, "after": {"status": "rejected", "reason": "Zürich \"blackout\"\n\u0001 €"}}"#).unwrap()
    }

    const HASH_1: &str = "b9801edc0d624f37a104720bb3e3462c8fb1a3a9271f5cda68ca0440c02a4ba1";
    const CHAIN_1: &str = "322f61f00dd4a2a9c79c64224a6bf1d2c292e859bf000c26e85001a5f98987ea";
    const HASH_2: &str = "ac04adc69875659fe93534333f2f7d545f94bb419585033f145c3832f77f211f";
    const CHAIN_2: &str = "08fa9ceffbe712db256a81ae91bfbd7384bbd24c8d14083ef28151dfd66d33a3";

    #[test]
    fn the_first_test_vector_canonicalizes_and_hashes_as_specified() {
        let bytes = canonical_bytes(&vector_one()).unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            r#"{"action":"user.created","actor":{"id":7,"username":"ana"},"after":{"active":true,"roles":["auditor"],"username":"bo"},"at":"2026-01-02T03:04:05.000006Z","before":null,"entity_id":"8","entity_type":"user","request_id":"req-1","seq":1}"#
        );
        let eh = event_hash(&vector_one()).unwrap();
        assert_eq!(hex::encode(eh), HASH_1);
        assert_eq!(hex::encode(chain_hash(1, &ZERO_HASH, &eh)), CHAIN_1);
    }

    #[test]
    fn the_second_test_vector_chains_to_the_first() {
        let bytes = canonical_bytes(&vector_two()).unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "{\"action\":\"plan.rejected\",\"actor\":null,\"after\":{\"reason\":\"Zürich \\\"blackout\\\"\\n\\u0001 €\",\"status\":\"rejected\"},\"at\":\"2026-01-02T03:04:06.000000Z\",\"before\":{\"status\":\"submitted\"},\"entity_id\":\"42\",\"entity_type\":\"plan\",\"request_id\":null,\"seq\":2}"
        );
        let eh = event_hash(&vector_two()).unwrap();
        assert_eq!(hex::encode(eh), HASH_2);
        let previous = parse_hash(CHAIN_1).unwrap();
        assert_eq!(hex::encode(chain_hash(2, &previous, &eh)), CHAIN_2);
    }

    #[test]
    fn a_verifier_accepts_the_test_vectors_and_their_head() {
        let mut v = Verifier::default();
        v.check(&vector_one(), HASH_1, CHAIN_1).unwrap();
        v.check(&vector_two(), HASH_2, CHAIN_2).unwrap();
        v.check_head(2, CHAIN_2).unwrap();
        assert_eq!(v.checked(), 2);
    }

    #[test]
    fn a_single_changed_byte_is_reported_as_an_edited_event() {
        let mut edited = vector_one();
        edited["entity_id"] = json!("9");
        let err = Verifier::default()
            .check(&edited, HASH_1, CHAIN_1)
            .unwrap_err();
        assert_eq!(
            err,
            ChainBreak {
                seq: 1,
                reason: BreakReason::EventEdited
            }
        );
    }

    #[test]
    fn a_missing_first_event_is_reported_as_out_of_sequence() {
        let err = Verifier::default()
            .check(&vector_two(), HASH_2, CHAIN_2)
            .unwrap_err();
        assert_eq!(err.reason, BreakReason::OutOfSequence { expected: 1 });
    }

    #[test]
    fn an_anchor_lets_a_range_verify_on_its_own() {
        let mut v = Verifier::from_anchor(1, parse_hash(CHAIN_1).unwrap());
        v.check(&vector_two(), HASH_2, CHAIN_2).unwrap();
    }

    #[test]
    fn an_event_with_an_extra_member_is_malformed() {
        let mut extra = vector_one();
        extra["note"] = json!("x");
        let err = Verifier::default()
            .check(&extra, HASH_1, CHAIN_1)
            .unwrap_err();
        assert!(matches!(err.reason, BreakReason::Malformed(_)));
    }

    #[test]
    fn a_head_that_claims_more_events_is_a_mismatch() {
        let mut v = Verifier::default();
        v.check(&vector_one(), HASH_1, CHAIN_1).unwrap();
        assert!(v.check_head(2, CHAIN_2).is_err());
    }
}
