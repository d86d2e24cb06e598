"""orders_etl: an example production pipeline Rollgate pauses and unpauses.

Adapt it: your real DAG needs nothing from Rollgate. Rollgate pauses it before a rollback
(PATCH /api/v2/dags/orders_etl {"is_paused": true}), may re-run it for a scope, and unpauses it
when the rollback is verified.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone

from airflow.sdk import DAG, task

OUT = os.environ.get("ROLLGATE_AIRFLOW_OUT", "/tmp/rollgate-airflow/out")

with DAG(
    dag_id="orders_etl",
    description="Example production pipeline (extract, transform, load)",
    schedule=None,
    start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    is_paused_upon_creation=False,
    max_active_runs=1,
    tags=["rollgate-example"],
    default_args={"retries": 0},
) as dag:

    @task
    def extract() -> int:
        return 42

    @task
    def transform(rows: int) -> int:
        return rows

    @task
    def load(rows: int) -> None:
        os.makedirs(OUT, exist_ok=True)
        with open(os.path.join(OUT, "orders_etl.jsonl"), "a") as f:
            f.write(json.dumps({"rows": rows, "at": datetime.now(timezone.utc).isoformat()}) + "\n")

    load(transform(extract()))
