"""Airflow DAG spark_nas_padnas: the PAD-NAS (progressive pruning of the layer-wise op sets; its M stages come from nas.padnas.stages) pipeline of spark-nas, one task per stage.

The tasks and their order come from spark_nas_plan.py, the same rule as submit/pipeline.sh --method padnas (checked by
submit/airflow/check_dags.py). Trigger with params run_id, run_root and overrides; see the README, "Airflow".
"""
from spark_nas_plan import build_dag

dag = build_dag("padnas")
