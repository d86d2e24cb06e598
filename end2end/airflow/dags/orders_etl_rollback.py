"""orders_etl_rollback: an example rollback DAG that Rollgate triggers once a plan is signed off.

Adapt it to restore your data. What Rollgate relies on:

* It is triggered with a `dag_run_id` Rollgate chooses and a `conf` holding `change_id`,
  `scope`, the plan row's own parameters, `rollgate` (execution, step, plan revision hash) and,
  when the row restores a data version: `target_version` (the version to restore: a snapshot or
  time-travel id, or `previous` for the one right before `undo_version`), `undo_version` (the
  version the bad change produced) and `code_version` (the git SHA before the change, when
  known). Keep `conf` as posted: after a crash Rollgate reads it back to recognise its own run.
* It reports what it restored for the plan's checks by pushing a dict to XCom under the key
  `rollgate_verification`, e.g. {"row_count": 1200, "checksum": "9f2c…"}; the check
  "row count between …", "checksum equals …" and custom checks ("name equals value") read it.

Test knobs (for Rollgate's own integration tests, harmless elsewhere):
  report            dict reported instead of the computed values
  fail_until_retry  the run fails while Rollgate's retry number is below it (0 = never)
  hold_seconds      the task waits this long before it starts (an abort mid-run is tested)
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from datetime import datetime, timezone

from airflow.sdk import DAG, Param, get_current_context, task

OUT = os.environ.get("ROLLGATE_AIRFLOW_OUT", "/tmp/rollgate-airflow/out")

with DAG(
    dag_id="orders_etl_rollback",
    description="Example rollback of orders_etl, verified by Rollgate",
    schedule=None,
    start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    is_paused_upon_creation=False,
    max_active_runs=4,
    tags=["rollgate-example", "rollback"],
    params={
        "change_id": Param(type="string", minLength=1, description="The Rollgate change"),
        "scope": Param("all", type="string"),
        "target_version": Param("previous", type="string"),
        "undo_version": Param("", type="string"),
        "report": Param({}, type="object"),
        "fail_until_retry": Param(0, type="integer", minimum=0),
        "hold_seconds": Param(0, type="integer", minimum=0, maximum=600),
    },
    default_args={"retries": 0},
) as dag:

    @task
    def apply_rollback() -> dict:
        ctx = get_current_context()
        params = dict(ctx["params"])
        conf = dict(ctx["dag_run"].conf or {})
        retry = int((conf.get("rollgate") or {}).get("retry", 0))
        time.sleep(int(params["hold_seconds"]))
        record = {"run_id": ctx["run_id"], "conf": conf, "at": datetime.now(timezone.utc).isoformat()}
        os.makedirs(OUT, exist_ok=True)
        with open(os.path.join(OUT, "orders_etl_rollback.jsonl"), "a") as f:
            f.write(json.dumps(record, sort_keys=True, default=str) + "\n")
        if retry < int(params["fail_until_retry"]):
            raise RuntimeError(f"simulated failure (retry {retry} < fail_until_retry)")
        # A real rollback restores `target_version` for `scope` here, then measures the result.
        values = dict(params["report"]) or {
            "row_count": 42,
            "checksum": hashlib.sha256(params["target_version"].encode()).hexdigest()[:12],
        }
        ctx["ti"].xcom_push(key="rollgate_verification", value=values)
        return {"change_id": params["change_id"], "target_version": params["target_version"]}

    apply_rollback()
