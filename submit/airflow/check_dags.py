"""Checks the Airflow DAGs without Airflow (python3's standard library only): run from the project root after the build,
   python3 submit/airflow/check_dags.py
Exit status 0 when every check passes; otherwise each failure on its own line and status 1.

- every spark_nas_<method>.py parses (ast), is found by Airflow's safe-mode scan, builds its DAG with
  build_dag("<method>") for the method its name says, and imports nothing but spark_nas_plan;
- importing spark_nas_plan does not import Airflow;
- for every method and configuration case, the DAG's tasks are submit/pipeline.sh --dry-run's commands, in its order:
  the same scripts with the same --stage-index;
- every task's script exists, is executable, and starts a main class that is in the application jar;
- a task's command, rendered as Airflow would with the default params, is accepted by the stage's own argument parser and
  configuration check (ConfigQuery, which validates without starting Spark).
"""
import ast
import os
import re
import shlex
import subprocess
import sys
import zipfile

HOME = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(HOME, "submit", "airflow"))
JAR = os.path.join(HOME, "jobs", "target", "spark-nas-jobs.jar")
CONFIG = os.path.join(HOME, "conf", "fashion-mnist-tiny.conf")

# (method, overrides): every branch of the plan
CASES = [
    ("spos", []),
    ("padnas", []),
    ("padnas", ["-Dnas.padnas.stages=4"]),
    ("padnas", ["-Dnas.padnas.stages=2"]),
    ("danas", []),
    ("danas", ["-Dnas.danas.schedule=all", "-Dnas.danas.prune=false"]),
    ("danas", ["-Dnas.danas.cost=latency"]),
    ("ddpnas", []),
    ("ddpnas", ['-Dnas.ddpnas.generation.constraints=["flops <= 8.0", "latency <= 2.0"]']),
    ("dsonas", []),
    ("dsonas", ["-Dnas.dsonas.budget=latency"]),
    ("spos", ["-Dnas.catalog.register=false"]),
]

failures = []


def fail(message):
    failures.append(message)
    print("FAIL " + message)


def check_dag_files(plan):
    files = sorted(f for f in os.listdir(os.path.join(HOME, "submit", "airflow")) if re.fullmatch(r"spark_nas_\w+\.py", f) and f != "spark_nas_plan.py")
    methods = [f[len("spark_nas_"):-3] for f in files]
    if sorted(methods) != sorted(plan.METHODS):
        fail(f"DAG files {files} do not cover the methods {plan.METHODS} one each")
    for f, method in zip(files, methods):
        path = os.path.join(HOME, "submit", "airflow", f)
        source = open(path, encoding="utf-8").read()
        tree = ast.parse(source, filename=f)
        # Airflow's safe mode (the default) only parses files that mention both words
        if "airflow" not in source.lower() or "dag" not in source.lower():
            fail(f"{f}: Airflow's safe-mode scan would skip it (it must mention 'airflow' and 'DAG')")
        imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
        for n in imports:
            mod = n.module if isinstance(n, ast.ImportFrom) else n.names[0].name
            if mod != "spark_nas_plan":
                fail(f"{f}: imports {mod}; a DAG file builds its DAG from spark_nas_plan only")
        builds = [n for n in tree.body if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call)
                  and getattr(n.value.func, "id", None) == "build_dag"]
        if len(builds) != 1 or [t.id for t in builds[0].targets] != ["dag"]:
            fail(f"{f}: expected exactly one module-level 'dag = build_dag(\"{method}\")'")
            continue
        args = builds[0].value.args
        if len(args) != 1 or not isinstance(args[0], ast.Constant) or args[0].value != method:
            fail(f"{f}: builds the DAG of {ast.unparse(builds[0].value)}, but its name says method '{method}'")
    return len(files)


def dry_run(method, overrides):
    cmd = [os.path.join(HOME, "submit", "pipeline.sh"), "--dry-run", "--method", method, "--config", CONFIG, "--run-id", "dry", *overrides]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=HOME)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {out.stderr.strip()}")
    steps = []
    for line in out.stdout.strip().splitlines():
        argv = shlex.split(line)
        script = os.path.basename(argv[0])
        index = argv[argv.index("--stage-index") + 1] if "--stage-index" in argv else None
        steps.append((script, index))
    return steps


def main_class(script):
    text = open(os.path.join(HOME, "submit", script), encoding="utf-8").read()
    m = re.search(r'run-stage"?\s+(io\.sparknas\.[\w.]+)', text)
    return m.group(1) if m else None


def check_plans(plan, jar_entries):
    checked = 0
    commands = {}
    for method, overrides in CASES:
        values = plan.resolve(HOME, CONFIG, overrides, method=method)
        specs = plan.task_specs(method, values)
        dag_steps = [(script, extra[1] if extra else None) for _, script, extra in specs]
        pipeline_steps = dry_run(method, overrides)
        if dag_steps != pipeline_steps:
            fail(f"{method} {overrides}: DAG tasks {dag_steps} differ from submit/pipeline.sh --dry-run {pipeline_steps}")
        ids = [t for t, _, _ in specs]
        if len(set(ids)) != len(ids):
            fail(f"{method} {overrides}: repeated task ids {ids}")
        for task_id, script, extra in specs:
            path = os.path.join(HOME, "submit", script)
            if not os.access(path, os.X_OK):
                fail(f"{method}: task {task_id} calls {path}, which is missing or not executable")
                continue
            cls = main_class(script)
            if cls is None or cls.replace(".", "/") + ".class" not in jar_entries:
                fail(f"{method}: task {task_id}: {script} starts {cls}, which is not in {JAR}")
            # the arguments the task starts its script with, as Airflow would run it with the default params
            env = {"NAS_RUN_ID": "airflow-20261202T000000", "NAS_RUN_ROOT": values["nas.run.root"], "NAS_OVERRIDES": " ".join(overrides)}
            argv = plan.run_task(HOME, CONFIG, method, values, script, extra, env, execute=False)[1:]
            if "--stage-index" in argv:
                i = argv.index("--stage-index")
                argv = argv[:i] + argv[i + 2:]
            stage = script[:-3]
            if stage != "register-tables":
                commands.setdefault(tuple(argv), []).append(stage)
        # the stages' own settings checks on the arguments the tasks pass (one JVM per distinct argument list)
        for argv, stages in commands.items():
            q = subprocess.run(["java", "-cp", JAR, "io.sparknas.jobs.cli.ConfigQuery", *argv, "--stages", ",".join(sorted(set(stages))),
                                "nas.run.id", "nas.run.method"], capture_output=True, text=True)
            if q.returncode != 0 or q.stdout.split() != ["airflow-20261202T000000", method]:
                fail(f"{method}: stages {stages} would refuse the tasks' arguments {' '.join(argv)}: {q.stderr.strip() or q.stdout}")
        commands.clear()
        checked += 1
        print(f"ok {method} {' '.join(overrides)}: {' -> '.join(ids)}")
    return checked


def main():
    if not os.path.isfile(JAR):
        print(f"FAIL {JAR} is missing: build first (mvn -B -q package -DskipTests)")
        return 1
    import spark_nas_plan as plan
    if any(m == "airflow" or m.startswith("airflow.") for m in sys.modules):
        fail("importing spark_nas_plan imported Airflow")
    with zipfile.ZipFile(JAR) as z:
        jar_entries = set(z.namelist())
    dags = check_dag_files(plan)
    cases = check_plans(plan, jar_entries)
    print(f"{dags} DAGs, {cases} configuration cases checked; {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
