"""Airflow DAG spark_nas_ddpnas: the DDPNAS (dynamic distribution pruning, then one architecture per cost constraint) pipeline of spark-nas, one task per stage.

The tasks and their order come from spark_nas_plan.py, the same rule as submit/pipeline.sh --method ddpnas (checked by
submit/airflow/check_dags.py). Trigger with params run_id, run_root and overrides; see the README, "Airflow".
"""
from spark_nas_plan import build_dag

dag = build_dag("ddpnas")
