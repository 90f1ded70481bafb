"""Checks the notebooks without Jupyter or PySpark (python3's standard library only): run from the project root,
   python3 notebooks/check_notebooks.py
Exit status 0 when every check passes; otherwise each failure on its own line and status 1.

- every notebooks/*.ipynb is nbformat 4 JSON with the fields Jupyter requires, and committed without outputs;
- every code cell compiles as Python 3;
- every query("<name>") a notebook runs names a file notebooks/queries/<name>.sql, and every query file is used by a
  notebook;
- every query file says which methods' runs it reads (-- runs: ...) and which columns it returns (-- columns: ...): the
  end-to-end tests run each file through Spark SQL on real runs of those methods and check exactly those columns.
"""
import ast
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
METHODS = {"spos", "padnas", "danas", "ddpnas", "dsonas"}
failures = []


def fail(message):
    failures.append(message)
    print("FAIL " + message)


def check_notebook(path):
    used = set()
    try:
        nb = json.load(open(path, encoding="utf-8"))
    except ValueError as e:
        fail(f"{path}: not JSON: {e}")
        return used
    if nb.get("nbformat") != 4 or not isinstance(nb.get("nbformat_minor"), int) or not isinstance(nb.get("metadata"), dict):
        fail(f"{path}: not nbformat 4 (nbformat, nbformat_minor, metadata)")
    cells = nb.get("cells")
    if not isinstance(cells, list) or not cells:
        fail(f"{path}: no cells")
        return used
    for i, cell in enumerate(cells):
        kind = cell.get("cell_type")
        source = cell.get("source")
        if kind not in ("markdown", "code") or not isinstance(source, (list, str)) or not isinstance(cell.get("metadata"), dict):
            fail(f"{path}: cell {i}: missing cell_type, source or metadata")
            continue
        text = "".join(source) if isinstance(source, list) else source
        if kind == "code":
            if cell.get("outputs") != [] or cell.get("execution_count") is not None:
                fail(f"{path}: cell {i}: committed with outputs; clear them")
            try:
                tree = ast.parse(text, filename=f"{os.path.basename(path)} cell {i}")
            except SyntaxError as e:
                fail(f"{path}: cell {i}: {e}")
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "query":
                    if not node.args or not isinstance(node.args[0], ast.Constant):
                        fail(f"{path}: cell {i}: query() takes the query file's name as a literal")
                        continue
                    used.add(node.args[0].value)
    return used


def check_query(name):
    text = open(os.path.join(HERE, "queries", name + ".sql"), encoding="utf-8").read()
    runs = re.search(r"^-- runs: (.+)$", text, re.M)
    columns = re.search(r"^-- columns: (.+)$", text, re.M)
    if not runs or not set(runs.group(1).split()) <= METHODS or not runs.group(1).split():
        fail(f"queries/{name}.sql: needs a '-- runs: <methods>' line naming some of {sorted(METHODS)}")
    if not columns:
        fail(f"queries/{name}.sql: needs a '-- columns: a, b, ...' line")


def main():
    notebooks = sorted(f for f in os.listdir(HERE) if f.endswith(".ipynb"))
    if not notebooks:
        fail("no notebooks")
    used = set()
    for f in notebooks:
        used |= check_notebook(os.path.join(HERE, f))
    queries = sorted(f[:-4] for f in os.listdir(os.path.join(HERE, "queries")) if f.endswith(".sql"))
    for name in sorted(used - set(queries)):
        fail(f"a notebook runs query('{name}') but notebooks/queries/{name}.sql does not exist")
    for name in sorted(set(queries) - used):
        fail(f"notebooks/queries/{name}.sql is used by no notebook")
    for name in queries:
        check_query(name)
    print(f"{len(notebooks)} notebooks, {len(queries)} query files checked; {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
