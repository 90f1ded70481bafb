"""The stage plan of a spark-nas pipeline, for the Airflow DAGs beside this file (spark_nas_<method>.py).

Standard library only, and nothing of Airflow's is imported until build_dag() runs, so the plan can be checked where
Airflow is not installed (check_dags.py). stage_tokens() is the same rule as submit/pipeline.sh's; check_dags.py compares
the two for every method. One task per stage, each calling the stage's own script (submit/<stage>.sh) with --resume, so a
task that Airflow retries after a failure continues the stage's checkpoint, skips a stage that did commit, or starts over
an uncommitted one: never a half-committed stage (README, "Stages and artifacts").
"""
import os
import re
import subprocess
from datetime import datetime, timedelta

METHODS = ("spos", "padnas", "danas", "ddpnas", "dsonas")

# What the plan depends on, resolved from the configuration by the same code the stages use (io.sparknas.jobs.ConfigQuery).
PLAN_KEYS = ("nas.run.root", "nas.padnas.stages", "nas.danas.schedule", "nas.danas.cost", "nas.ddpnas.generation.constraints",
             "nas.dsonas.budget", "nas.catalog.register")


def stage_tokens(method, values):
    """The stages of a method's pipeline in order: script names, with -k for stage index k >= 2 (as submit/pipeline.sh)."""
    if method == "spos":
        return ["ingest", "latency-profile", "supernet-train", "search", "retrain", "ranking", "report"]
    if method == "padnas":
        m = int(values["nas.padnas.stages"])
        if m < 2:
            raise ValueError(f"nas.padnas.stages = {m}: PAD-NAS needs M >= 2")
        tokens = ["ingest", "latency-profile", "supernet-train"]
        for k in range(1, m - 1):
            sfx = f"-{k}" if k > 1 else ""
            tokens += [f"search{sfx}", f"prune{sfx}", f"supernet-train-{k + 1}"]
        sfx = f"-{m - 1}" if m - 1 > 1 else ""
        return tokens + [f"search{sfx}", "retrain", "ranking", "report"]
    if method == "danas":
        tokens = ["ingest"]
        if values["nas.danas.schedule"] != "all":
            tokens.append("easiness")
        if values["nas.danas.cost"] == "latency":
            tokens.append("latency-profile")
        return tokens + ["supernet-train", "search", "retrain", "report"]
    if method == "ddpnas":
        tokens = ["ingest"]
        if "latency" in values["nas.ddpnas.generation.constraints"]:
            tokens.append("latency-profile")
        return tokens + ["supernet-train", "search", "retrain", "report"]
    if method == "dsonas":
        tokens = ["ingest"]
        if values["nas.dsonas.budget"] == "latency":
            tokens.append("latency-profile")
        return tokens + ["supernet-train", "search", "retrain", "report"]
    raise ValueError(f"unknown method '{method}' ({', '.join(METHODS)})")


def task_specs(method, values):
    """(task id, script under submit/, extra arguments) per task, in order: the stages, then register-tables when
    nas.catalog.register is true (not a stage: it writes nothing in the run)."""
    specs = []
    for token in stage_tokens(method, values):
        m = re.fullmatch(r"(.+)-(\d+)", token)
        script, extra = (m.group(1), ["--stage-index", m.group(2)]) if m else (token, [])
        specs.append((token.replace("-", "_"), f"{script}.sh", extra))
    if values["nas.catalog.register"] == "true":
        specs.append(("register_tables", "register-tables.sh", []))
    return specs


def resolve(home, config, overrides=(), method=None):
    """The plan's configuration values: io.sparknas.jobs.ConfigQuery on the application jar (one JVM start, no Spark)."""
    jar = os.path.join(home, "jobs", "target", "spark-nas-jobs.jar")
    if not os.path.isfile(jar):
        raise FileNotFoundError(f"{jar} is missing: build spark-nas first (mvn -B -q package -DskipTests) and set SPARK_NAS_HOME")
    args = ["java", "-cp", jar, "io.sparknas.jobs.ConfigQuery", "--config", config, *overrides]
    if method:
        args.append(f"-Dnas.run.method={method}")
    out = subprocess.run(args + list(PLAN_KEYS), capture_output=True, text=True)
    if out.returncode != 0:
        raise ValueError(f"invalid spark-nas configuration {config}: {out.stderr.strip()}")
    return dict(zip(PLAN_KEYS, out.stdout.splitlines()))


def command(home, script, extra, config, method, run_id="{{ params.run_id or ('airflow-' ~ ts_nodash) }}",
            run_root="{{ params.run_root }}", overrides="{{ params.overrides }}"):
    """A task's bash command (Jinja-templated by Airflow): the stage script with the run's id, root and overrides."""
    parts = [os.path.join(home, "submit", script), *extra, "--config", config, "--run-root", run_root, "--run-id", run_id,
             f"-Dnas.run.method={method}", "--resume"]
    return " ".join(parts) + (" " + overrides if overrides else "")


def build_dag(method):
    """The Airflow DAG of one method: one BashOperator per stage, chained in the pipeline's order. Environment:
    SPARK_NAS_HOME (a built checkout; default: two folders above this file), SPARK_NAS_CONFIG (default: the tiny preset),
    and for the tasks SPARK_MASTER / NAS_SUBMIT_ARGS as submit/run-stage reads them."""
    from airflow import DAG
    from airflow.models.param import Param
    from airflow.operators.bash import BashOperator

    home = os.environ.get("SPARK_NAS_HOME", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    config = os.environ.get("SPARK_NAS_CONFIG", os.path.join(home, "conf", "fashion-mnist-tiny.conf"))
    values = resolve(home, config, method=method)
    with DAG(
        dag_id=f"spark_nas_{method}",
        description=f"spark-nas {method} pipeline on {os.path.basename(config)}, one task per stage",
        schedule=None,
        start_date=datetime(2026, 1, 1),
        catchup=False,
        max_active_runs=1,
        tags=["spark-nas", method],
        default_args={"retries": 2, "retry_delay": timedelta(minutes=5), "retry_exponential_backoff": True},
        params={
            "run_id": Param("", type="string", description="the run's id (empty: airflow-<logical date>)"),
            "run_root": Param(values["nas.run.root"], type="string", description="local path or s3a://bucket/prefix"),
            "overrides": Param("", type="string", description="extra -Dnas.key=value arguments for every stage"),
        },
    ) as dag:
        previous = None
        for task_id, script, extra in task_specs(method, values):
            task = BashOperator(task_id=task_id, bash_command=command(home, script, extra, config, method), cwd=home)
            if previous is not None:
                previous >> task
            previous = task
    return dag


def render(method, task_id, run_id, run_root, config=None, overrides=""):
    """The bash command Airflow runs for one task of a method's DAG, with the DAG's params filled in (a retried task runs
    the same command again)."""
    home = os.environ.get("SPARK_NAS_HOME", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    config = config or os.environ.get("SPARK_NAS_CONFIG", os.path.join(home, "conf", "fashion-mnist-tiny.conf"))
    values = resolve(home, config, overrides.split(), method=method)
    for tid, script, extra in task_specs(method, values):
        if tid == task_id:
            return command(home, script, extra, config, method, run_id=run_id, run_root=run_root, overrides=overrides)
    raise ValueError(f"DAG spark_nas_{method} has no task {task_id}: {[t for t, _, _ in task_specs(method, values)]}")


if __name__ == "__main__":
    import argparse
    import sys

    p = argparse.ArgumentParser(description="Print the bash command of one task of a spark-nas DAG, params filled in.")
    p.add_argument("method", choices=METHODS)
    p.add_argument("task_id")
    p.add_argument("--run-id", required=True)
    p.add_argument("--run-root", required=True)
    p.add_argument("--config")
    p.add_argument("--overrides", default="")
    a = p.parse_args()
    try:
        print(render(a.method, a.task_id, a.run_id, a.run_root, a.config, a.overrides))
    except (ValueError, FileNotFoundError) as e:
        print(f"spark_nas_plan: {e}", file=sys.stderr)
        sys.exit(2)
