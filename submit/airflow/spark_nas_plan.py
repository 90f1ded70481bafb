"""The stage plan of a spark-nas pipeline, for the Airflow DAGs beside this file (spark_nas_<method>.py).

Standard library only, and nothing of Airflow's is imported until build_dag() runs, so the plan can be checked where
Airflow is not installed (check_dags.py). The stage list comes from the method's descriptor in the application jar
(io.sparknas.jobs.cli.ConfigQuery stage-plan), as submit/pipeline.sh's does; check_dags.py compares the two for every method. One task per stage, each calling the stage's own script (submit/<stage>.sh) with --resume, so a
task that Airflow retries after a failure continues the stage's checkpoint, skips a stage that did commit, or starts over
an uncommitted one: never a half-committed stage (README, "Stages and artifacts").
"""
import json
import os
import re
import shlex
import subprocess
import sys
from datetime import datetime, timedelta

METHODS = ("spos", "padnas", "danas", "ddpnas", "dsonas")

# What the plan depends on, resolved from the configuration by the same code the stages use (io.sparknas.jobs.cli.ConfigQuery):
# these keys, then the method's stage list ("stage-plan", as values["stages"]) and the keys that list is planned from
# ("plan-keys", as values["plan_keys"]).
PLAN_KEYS = ("nas.run.root", "nas.catalog.register")


def stage_tokens(method, values):
    """The stages of a method's pipeline in order: script names, with -k for stage index k >= 2 (as submit/pipeline.sh),
    as the method's descriptor plans them (resolved by resolve())."""
    return list(values["stages"])


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


_resolved = {}


def resolve(home, config, overrides=(), method=None):
    """The plan's configuration values: io.sparknas.jobs.cli.ConfigQuery on the application jar (one JVM start, no Spark; the
    answer is kept for the same arguments)."""
    key = (home, config, tuple(overrides), method)
    if key not in _resolved:
        _resolved[key] = _resolve(home, config, overrides, method)
    return dict(_resolved[key])


def _resolve(home, config, overrides, method):
    jar = os.path.join(home, "jobs", "target", "spark-nas-jobs.jar")
    if not os.path.isfile(jar):
        raise FileNotFoundError(f"{jar} is missing: build spark-nas first (mvn -B -q package -DskipTests) and set SPARK_NAS_HOME")
    args = ["java", "-cp", jar, "io.sparknas.jobs.cli.ConfigQuery", "--config", config, *overrides]
    if method:
        args.append(f"-Dnas.run.method={method}")
    out = subprocess.run(args + list(PLAN_KEYS) + ["stage-plan", "plan-keys"], capture_output=True, text=True)
    if out.returncode != 0:
        raise ValueError(f"invalid spark-nas configuration {config}: {out.stderr.strip()}")
    lines = out.stdout.splitlines()
    values = dict(zip(PLAN_KEYS, lines))
    values["stages"] = lines[len(PLAN_KEYS)].split()
    values["plan_keys"] = lines[len(PLAN_KEYS) + 1].split()
    return values


def _home():
    return os.environ.get("SPARK_NAS_HOME", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


# What a trigger may pass. The values never reach a shell: Airflow renders them into the task's environment (NAS_RUN_ID,
# NAS_RUN_ROOT, NAS_OVERRIDES), and the task (run_task below) checks them again and starts the stage script with an
# argument list, so a value is either passed on verbatim as one argument or refused.
RUN_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$"
# a local path or s3a://bucket/prefix, without '..' segments
RUN_ROOT_PATTERN = r"^(?!.*(^|/)\.\.(/|$))(s3a://[a-z0-9][a-z0-9.-]*[a-z0-9](/[A-Za-z0-9._=+-]+)*/?|/?[A-Za-z0-9._=+-]+(/[A-Za-z0-9._=+-]+)*/?)$"
# the characters an override string may hold (the Param's check; each -D token is checked by OVERRIDE_PATTERN)
OVERRIDES_PATTERN = r'^[A-Za-z0-9_.,:/<>=\[\]" +*-]*$'
OVERRIDE_PATTERN = r'^-Dnas\.[a-z0-9-]+(\.[a-z0-9-]+)*=[A-Za-z0-9_.,:/<>=\[\]" +*-]*$'
# keys a trigger-time override may never set: the run's identity comes from the params and the DAG
RUN_KEYS = ("nas.run.id", "nas.run.root", "nas.run.method")
ENV = {"run_id": "NAS_RUN_ID", "run_root": "NAS_RUN_ROOT", "overrides": "NAS_OVERRIDES"}
# the task environment as Airflow renders it (BashOperator's env is templated)
TASK_ENV = {"NAS_RUN_ID": "{{ params.run_id or ('airflow-' ~ ts_nodash) }}", "NAS_RUN_ROOT": "{{ params.run_root }}",
            "NAS_OVERRIDES": "{{ params.overrides }}"}


class ParamError(ValueError):
    """A trigger-time parameter the task refuses: the message names the param, the value and what is expected."""


def check_run_id(value):
    if not re.fullmatch(RUN_ID_PATTERN[1:-1], value):
        raise ParamError(f"param run_id = {value!r}: a run id is letters, digits, '.', '_' and '-' (not starting with '.', '_' or '-'), "
                         f"at most 200 characters")
    return value


def check_run_root(value):
    if not re.fullmatch(RUN_ROOT_PATTERN[1:-1], value):
        raise ParamError(f"param run_root = {value!r}: give a local path or s3a://bucket/prefix of letters, digits and '._=+-/', "
                         f"without '..'")
    return value


def split_overrides(value):
    """The -Dnas.key=value tokens of the overrides param, each checked; anything else is refused. Tokens are separated by
    white space before '-D', so a value may hold spaces (-Dnas.ddpnas.generation.constraints=["flops <= 8.0"])."""
    value = value.strip()
    if not value:
        return []
    if not re.fullmatch(OVERRIDES_PATTERN[1:-1], value):
        bad = sorted(set(c for c in value if not re.fullmatch(OVERRIDES_PATTERN[1:-1], c)))
        raise ParamError(f"param overrides = {value!r}: characters {bad!r} are not allowed; give -Dnas.key=value tokens separated "
                         f"by spaces")
    tokens = re.split(r"\s+(?=-D)", value)
    for t in tokens:
        if not re.fullmatch(OVERRIDE_PATTERN[1:-1], t):
            raise ParamError(f"param overrides: {t!r} is not a -Dnas.key=value token")
        key = t[2:].split("=", 1)[0]
        if key in RUN_KEYS:
            raise ParamError(f"param overrides: {t!r} sets {key}; use the DAG's params run_id and run_root (the method is the DAG's)")
    return tokens


def task_command(home, config, method, script, extra, plan):
    """A task's bash command: no template and no trigger-time value in it (those come through TASK_ENV). It runs this file's
    run_task, which checks the params and starts submit/<script> with an argument list. The home and config paths are the
    DAG's (set by whoever deploys it), quoted."""
    return shlex.join(["python3", os.path.join(home, "submit", "airflow", "spark_nas_plan.py"), "run-task", "--home", home,
                       "--config", config, "--method", method, "--plan", json.dumps(plan, sort_keys=True), script, *extra])


def run_task(home, config, method, plan, script, extra, environ, execute=True):
    """What a task does: read run id, run root and overrides from the environment Airflow rendered, refuse any that is not
    well-formed or that would change the DAG's plan, then exec the stage script (never a shell). Returns the argument list."""
    run_id = check_run_id(environ.get("NAS_RUN_ID", ""))
    run_root = check_run_root(environ.get("NAS_RUN_ROOT", ""))
    overrides = split_overrides(environ.get("NAS_OVERRIDES", ""))
    plan_keys = set(PLAN_KEYS) | set(plan.get("plan_keys", []))
    if any(t[2:].split("=", 1)[0] in plan_keys for t in overrides):
        # one JVM start, only when an override names a key the plan depends on: the same resolution as the DAG's
        values = resolve(home, config, overrides, method=method)
        if task_specs(method, values) != task_specs(method, plan):
            theirs = [t for t, _, _ in task_specs(method, values)]
            ours = [t for t, _, _ in task_specs(method, plan)]
            changing = [t for t in overrides if t[2:].split("=", 1)[0] in plan_keys]
            raise ParamError(f"param overrides: {' '.join(changing)} would change the DAG's tasks {ours} to {theirs}: a trigger cannot "
                             f"change the plan the DAG was built with; set it in the DAG's config file ({config}, SPARK_NAS_CONFIG) "
                             f"instead, so the DAG is rebuilt with it")
    argv = [os.path.join(home, "submit", script), *extra, "--config", config, "--run-root", run_root, "--run-id", run_id,
            f"-Dnas.run.method={method}", "--resume", *overrides]
    if execute:
        sys.stdout.flush()
        os.execv(argv[0], argv)
    return argv


def build_dag(method):
    """The Airflow DAG of one method: one BashOperator per stage, chained in the pipeline's order. Environment:
    SPARK_NAS_HOME (a built checkout; default: two folders above this file), SPARK_NAS_CONFIG (default: the tiny preset),
    and for the tasks SPARK_MASTER / NAS_SUBMIT_ARGS as submit/run-stage reads them."""
    from airflow import DAG
    from airflow.models.param import Param
    from airflow.operators.bash import BashOperator

    home = _home()
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
            "run_id": Param("", type="string", pattern="^$|" + RUN_ID_PATTERN,
                            description="the run's id (empty: airflow-<logical date>)"),
            "run_root": Param(values["nas.run.root"], type="string", pattern=RUN_ROOT_PATTERN,
                              description="local path or s3a://bucket/prefix"),
            "overrides": Param("", type="string", pattern=OVERRIDES_PATTERN,
                               description="extra -Dnas.key=value arguments for every stage (not the keys the plan depends on)"),
        },
    ) as dag:
        previous = None
        for task_id, script, extra in task_specs(method, values):
            task = BashOperator(task_id=task_id, bash_command=task_command(home, config, method, script, extra, values),
                                env=dict(TASK_ENV), append_env=True, cwd=home)
            if previous is not None:
                previous >> task
            previous = task
    return dag


def render(method, task_id, run_id, run_root, config=None, overrides="", home=None):
    """One task of a method's DAG as Airflow runs it with the given params: (bash command, environment it adds), the
    environment's templates filled in as Jinja would (a retried task runs the same command again)."""
    home = home or _home()
    config = config or os.environ.get("SPARK_NAS_CONFIG", os.path.join(_home(), "conf", "fashion-mnist-tiny.conf"))
    values = resolve(_home(), config, method=method)
    for tid, script, extra in task_specs(method, values):
        if tid == task_id:
            env = {"NAS_RUN_ID": run_id or "airflow-20260101T000000", "NAS_RUN_ROOT": run_root, "NAS_OVERRIDES": overrides}
            return task_command(home, config, method, script, extra, values), env
    raise ValueError(f"DAG spark_nas_{method} has no task {task_id}: {[t for t, _, _ in task_specs(method, values)]}")


def main(argv):
    import argparse

    if argv[:1] == ["run-task"]:
        p = argparse.ArgumentParser(prog="spark_nas_plan.py run-task", description="Run one task of a spark-nas DAG (its bash "
                                    "command does this): params from NAS_RUN_ID, NAS_RUN_ROOT and NAS_OVERRIDES.")
        p.add_argument("--home", required=True)
        p.add_argument("--config", required=True)
        p.add_argument("--method", required=True, choices=METHODS)
        p.add_argument("--plan", required=True, help="the plan's configuration values the DAG was built with (JSON)")
        p.add_argument("script")
        p.add_argument("extra", nargs=argparse.REMAINDER)
        a = p.parse_args(argv[1:])
        try:
            run_task(a.home, a.config, a.method, json.loads(a.plan), a.script, a.extra, os.environ)
        except (ValueError, FileNotFoundError) as e:
            print(f"spark-nas airflow task refused: {e}", file=sys.stderr)
            return 2
        return 0
    p = argparse.ArgumentParser(description="Print the command one task of a spark-nas DAG runs, params filled in (run it in "
                                "bash to run or retry the task by hand).")
    p.add_argument("method", choices=METHODS)
    p.add_argument("task_id")
    p.add_argument("--run-id", required=True)
    p.add_argument("--run-root", required=True)
    p.add_argument("--config")
    p.add_argument("--overrides", default="")
    a = p.parse_args(argv)
    try:
        check_run_id(a.run_id)
        check_run_root(a.run_root)
        split_overrides(a.overrides)
        cmd, env = render(a.method, a.task_id, a.run_id, a.run_root, a.config, a.overrides)
    except (ValueError, FileNotFoundError) as e:
        print(f"spark_nas_plan: {e}", file=sys.stderr)
        return 2
    print(" ".join(f"{k}={shlex.quote(v)}" for k, v in env.items()) + " " + cmd)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
