"""Airflow DAG spark_nas_spos: the SPOS (uniform single-path supernet + constrained evolutionary search) pipeline of spark-nas, one task per stage.

The tasks and their order come from spark_nas_plan.py, the same rule as submit/pipeline.sh --method spos (checked by
submit/airflow/check_dags.py). Trigger with params run_id, run_root and overrides; see the README, "Airflow".
"""
from spark_nas_plan import build_dag

dag = build_dag("spos")
