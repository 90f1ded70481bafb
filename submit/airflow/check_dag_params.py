"""Checks that a DAG's trigger-time params cannot run anything but the stage script (python3's standard library only): run
from the project root after the build,
   python3 submit/airflow/check_dag_params.py
Exit status 0 when every check passes; otherwise each failure on its own line and status 1.

Every task of every DAG is rendered as Airflow would (spark_nas_plan.render: the bash command, and the environment with its
templates filled in) with hostile values of run_id, run_root and overrides (';', '$(...)', backquotes, newlines, '../',
quotes), and run through 'bash -c' with a stand-in for the stage scripts (a home whose submit/<stage>.sh records its
arguments). Each run must either be refused (exit 2, one line naming the param, the stand-in not started) or start the
stand-in once with the values verbatim; no canary file may appear and 'INJECTED' may not be printed. The Params' own
patterns (checked by Airflow at trigger time) must refuse every hostile value too. Then overrides that change the plan the DAG
was built with are refused, naming the config file, and ones that do not are passed on.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HOME = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(HOME, "submit", "airflow"))
CONFIG = os.path.join(HOME, "conf", "fashion-mnist-tiny.conf")

failures = []
SHELL_CHARS = ";$`|\n'&"
runs = 0


def fail(message):
    failures.append(message)
    print("FAIL " + message)


def hostile(canary):
    """Values that would run a command (each creates the canary file or prints INJECTED) if a shell interpreted them."""
    touch = f"touch {canary}"
    return [f"x; {touch} #", f"$({touch})", f"`{touch}`", f"x\n{touch}", f"x && echo INJECTED", f"x' ; echo INJECTED '",
            f'x" ; echo INJECTED "', "../../etc", f"x|{touch}", f"$(echo INJECTED)", "a b", ""]


def make_stand_in(plan, root):
    """A home whose stage scripts record their argument lists (one JSON line each in $STANDIN_LOG) and do nothing else."""
    os.makedirs(os.path.join(root, "submit", "airflow"))
    os.makedirs(os.path.join(root, "jobs", "target"))
    os.symlink(os.path.join(HOME, "jobs", "target", "spark-nas-jobs.jar"), os.path.join(root, "jobs", "target", "spark-nas-jobs.jar"))
    shutil.copy(os.path.join(HOME, "submit", "airflow", "spark_nas_plan.py"), os.path.join(root, "submit", "airflow"))
    scripts = {s for m in plan.METHODS for s in ("ingest.sh", "easiness.sh", "latency-profile.sh", "supernet-train.sh", "search.sh",
                                                  "prune.sh", "retrain.sh", "ranking.sh", "report.sh", "register-tables.sh")}
    for s in scripts:
        path = os.path.join(root, "submit", s)
        with open(path, "w") as f:
            f.write("#!/usr/bin/env python3\nimport json, os, sys\n"
                    "with open(os.environ['STANDIN_LOG'], 'a') as f:\n"
                    "    f.write(json.dumps([os.path.basename(sys.argv[0])] + sys.argv[1:]) + '\\n')\n")
        os.chmod(path, 0o755)


def run(plan, method, task_id, params, stand_in, work):
    """Renders and runs one task; returns (exit status, output, the stand-in's argument lists)."""
    global runs
    runs += 1
    cmd, env = plan.render(method, task_id, params["run_id"], params["run_root"], CONFIG, params["overrides"], home=stand_in)
    log = os.path.join(work, "standin.log")
    if os.path.exists(log):
        os.remove(log)
    full_env = {"PATH": os.environ["PATH"], "STANDIN_LOG": log, **env}
    out = subprocess.run(["bash", "-c", cmd], cwd=work, env=full_env, capture_output=True, text=True, timeout=120)
    calls = [json.loads(line) for line in open(log)] if os.path.exists(log) else []
    return out.returncode, out.stdout + out.stderr, calls


def param_pattern_refuses(plan, name, value):
    pattern = {"run_id": "^$|" + plan.RUN_ID_PATTERN, "run_root": plan.RUN_ROOT_PATTERN, "overrides": plan.OVERRIDES_PATTERN}[name]
    return re.search(pattern, value) is None  # as jsonschema's "pattern" (re.search) at trigger time


def check_hostile(plan, specs_by_method, stand_in, work):
    canary = os.path.join(work, "CANARY")
    safe = {"run_id": "r1", "run_root": "/tmp/nas-runs", "overrides": "-Dnas.retrain.epochs=1"}
    index = 0
    for method, specs in specs_by_method.items():
        for task_id, script, extra in specs:
            index += 1
            # the command itself holds no param: the same string whatever the trigger passes (static, every value)
            reference = plan.render(method, task_id, **safe, config=CONFIG, home=stand_in)[0]
            for name in ("run_id", "run_root", "overrides"):
                for value in hostile(canary) + [f"-Dnas.retrain.epochs={v}" for v in hostile(canary)]:
                    params = dict(safe, **{name: value})
                    if plan.render(method, task_id, **params, config=CONFIG, home=stand_in)[0] != reference:
                        fail(f"{method}/{task_id}: the bash command changes with param {name}={value!r}")
            for name in ("run_id", "run_root", "overrides"):
                values = hostile(canary)
                if name == "overrides":
                    values = [f"-Dnas.retrain.epochs={v}" for v in values] + values
                # run through bash: every value on several tasks of every DAG, three per task and param
                for value in [values[(index * 3 + k) % len(values)] for k in range(3)]:
                    params = dict(safe, **{name: value})
                    status, output, calls = run(plan, method, task_id, params, stand_in, work)
                    what = f"{method}/{task_id} {name}={value!r}"
                    if os.path.exists(canary):
                        fail(f"{what}: the canary file was created: the value ran as a command")
                        os.remove(canary)
                    if "INJECTED" in output.replace(value, ""):
                        fail(f"{what}: 'INJECTED' was printed: the value ran as a command:\n{output}")
                    refused_by_param = param_pattern_refuses(plan, name, value)
                    if any(c in value for c in SHELL_CHARS) and (not refused_by_param or status != 2):
                        fail(f"{what}: a value holding shell characters got exit {status}, Param pattern "
                             f"{'refuses' if refused_by_param else 'accepts'} it (both must refuse)")
                    if refused_by_param and status != 2:
                        fail(f"{what}: the DAG's Param pattern refuses it but the task ran it (exit {status})")
                    if name != "overrides" and not refused_by_param and status == 2:
                        fail(f"{what}: the task refuses it but the DAG's Param pattern lets it through: {output.strip()}")
                    if status == 0:
                        if len(calls) != 1 or calls[0][0] != script:
                            fail(f"{what}: exit 0 but the stand-in {script} ran {len(calls)} times: {calls}")
                            continue
                        argv = calls[0][1:]
                        if argv[:len(extra)] != extra:
                            fail(f"{what}: the stand-in's arguments {argv} do not start with {extra}")
                        got = {"run_id": argv[argv.index("--run-id") + 1], "run_root": argv[argv.index("--run-root") + 1],
                               "overrides": argv[argv.index("--resume") + 1:]}
                        expected = {"run_id": value or "airflow-20260101T000000", "run_root": value,
                                    "overrides": re.split(r"\s+(?=-D)", value.strip()) if value.strip() else []}[name]
                        if got[name] != expected:
                            fail(f"{what}: the stand-in got {got[name]!r}, not the value verbatim ({expected!r})")
                    elif status == 2:
                        if calls:
                            fail(f"{what}: refused, yet the stand-in ran: {calls}")
                        if f"param {name}" not in output or "refused" not in output:
                            fail(f"{what}: refused without naming param {name}: {output.strip()}")
                    else:
                        fail(f"{what}: exit {status}, neither run nor refused: {output.strip()}")


def check_plan_overrides(plan, stand_in, work):
    """Overrides that would change a DAG's tasks are refused at its first task (naming the config file); ones that leave the
    plan as built are passed on."""
    cases = [
        ("padnas", "-Dnas.padnas.stages=4", False),
        ("padnas", "-Dnas.padnas.stages=3", True),
        ("danas", "-Dnas.danas.cost=latency", False),
        ("danas", "-Dnas.danas.schedule=all -Dnas.danas.prune=false", False),
        ("ddpnas", '-Dnas.ddpnas.generation.constraints=["flops <= 8.0", "latency <= 2.0"]', False),
        ("ddpnas", '-Dnas.ddpnas.generation.constraints=["flops <= 8.0", "flops <= 9.0"]', True),
        ("dsonas", "-Dnas.dsonas.budget=latency", False),
        ("spos", "-Dnas.catalog.register=false", False),
        ("spos", "-Dnas.padnas.stages=4", True),
        ("spos", "-Dnas.run.id=other", False),
        ("spos", "-Dnas.run.root=/elsewhere", False),
    ]
    for method, overrides, accepted in cases:
        status, output, calls = run(plan, method, "ingest", {"run_id": "r1", "run_root": "/tmp/nas-runs", "overrides": overrides},
                                    stand_in, work)
        what = f"{method} ingest with {overrides}"
        if accepted:
            if status != 0 or len(calls) != 1 or calls[0][-len(overrides.split(" -D")):][0] not in overrides:
                fail(f"{what}: expected to run the stand-in with the overrides, got exit {status}, calls {calls}: {output.strip()}")
        else:
            if status != 2 or calls:
                fail(f"{what}: expected a refusal (exit 2, nothing run), got exit {status}, calls {calls}")
            elif "nas.run." not in overrides and (CONFIG not in output or "plan" not in output):
                fail(f"{what}: the refusal does not say to set it in the DAG's config file {CONFIG}: {output.strip()}")
        print(f"ok {what}: {'passed on' if accepted else 'refused'}")
    return len(cases)


def main():
    import spark_nas_plan as plan
    specs_by_method = {m: plan.task_specs(m, plan.resolve(HOME, CONFIG, method=m)) for m in plan.METHODS}
    work = tempfile.mkdtemp(prefix="dag-params-")
    try:
        stand_in = os.path.join(work, "home")
        make_stand_in(plan, stand_in)
        check_hostile(plan, specs_by_method, stand_in, work)
        tasks = sum(len(s) for s in specs_by_method.values())
        cases = check_plan_overrides(plan, stand_in, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{tasks} tasks of {len(specs_by_method)} DAGs rendered with hostile params, {cases} plan cases, {runs} task runs; "
          f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
