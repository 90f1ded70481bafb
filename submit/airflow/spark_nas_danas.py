"""Airflow DAG spark_nas_danas: the DA-NAS (class easiness, then a Gumbel-softmax supernet on progressively harder classes with pruning) pipeline of spark-nas, one task per stage.

The tasks and their order come from spark_nas_plan.py, the same rule as submit/pipeline.sh --method danas (checked by
submit/airflow/check_dags.py). Trigger with params run_id, run_root and overrides; see the README, "Airflow".
"""
from spark_nas_plan import build_dag

dag = build_dag("danas")
