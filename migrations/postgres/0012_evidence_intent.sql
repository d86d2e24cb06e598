-- Evidence also records a call's intent, written before the call goes out (kind `intent`).
ALTER TABLE execution_evidence DROP CONSTRAINT execution_evidence_kind_check;
ALTER TABLE execution_evidence ADD CONSTRAINT execution_evidence_kind_check
    CHECK (kind IN ('http', 'check', 'operator', 'intent'));
