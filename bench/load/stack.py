"""The processes of the load test: delivery workers, locust, and what they use.

Memory and CPU are sampled with psutil; gunicorn's logs and the workers' logs are read
for errors afterwards.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import sqlalchemy as sa

from bench import _common as common

ROOT = Path(__file__).resolve().parents[2]
DATABASE = "lms_load"
URL = f"{common.PG_SERVER}/{DATABASE}"
PASSWORD = "load test 2026"  # noqa: S105 (throwaway accounts of a throwaway database)
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
BIN = Path(sys.executable).parent
#: The status of an answer in gunicorn's access log: after the quoted request line.
ACCESS_STATUS = re.compile(r'" (\d{3}) ')


def start_workers(count: int, logs: Path) -> list[subprocess.Popen]:
    """``count`` delivery workers, each logging to ``logs/worker-N.log``."""
    env = common.app_environment(URL)
    workers = []
    for number in range(count):
        with open(logs / f"worker-{number}.log", "w") as log:
            workers.append(
                subprocess.Popen(  # noqa: S603 (our own virtual environment's flask)
                    [str(BIN / "flask"), "--app", "wsgi", "xapi", "worker"],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    return workers


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


#: gunicorn's access log line, with the time the server spent on the request (seconds)
#: and the worker's pid after the status and size: to tell the server's own time from
#: the time a request waited, and a burst from a slow page.
ACCESS_FORMAT = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(L)s %(p)s'


def log_gunicorn_to(out: Path, name: str) -> None:
    """The next gunicorn's access and error logs (stdout by gunicorn.conf.py) go to
    ``out/<name>-access.log`` and ``out/<name>-gunicorn.log``."""
    os.environ["GUNICORN_CMD_ARGS"] = (
        f"--access-logfile {out / f'{name}-access.log'} "
        f"--error-logfile {out / f'{name}-gunicorn.log'} "
        f"--access-logformat {shlex.quote(ACCESS_FORMAT)}"
    )


def troubles(logs: Path) -> list[str]:
    """Lines of the application's gunicorn log and the delivery workers' logs that tell of
    an error (a traceback, an error, a worker timed out or killed)."""
    marks = ("Traceback", "ERROR", "CRITICAL", "WORKER TIMEOUT", "was sent SIG")
    found = []
    for path in [logs / "lms-gunicorn.log", *sorted(logs.glob("worker-*.log"))]:
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            if any(mark in line for mark in marks):
                found.append(f"{path.name}: {line.strip()}")
    return found


def server_statuses(log: Path) -> dict[str, int]:
    """How many answers of each status class gunicorn's access log records (2xx, 3xx...)."""
    counts: dict[str, int] = {}
    if log.exists():
        for line in log.read_text(errors="replace").splitlines():
            match = ACCESS_STATUS.search(line)
            if match:
                key = match.group(1)[0] + "xx"
                counts[key] = counts.get(key, 0) + 1
    return counts


class Sampler(threading.Thread):
    """Every 5 seconds: the RSS of the gunicorn workers (sum) and of each delivery worker,
    and the CPU time used so far by each process of the stack: the gunicorn processes,
    the delivery workers, locust, and PostgreSQL's backends serving this database."""

    GROUPS = ("web", "database", "delivery", "locust")

    def __init__(self, workers: list[subprocess.Popen]):
        super().__init__(daemon=True)
        self.workers = [psutil.Process(p.pid) for p in workers]
        self.done = threading.Event()
        self.web: list[float] = []
        self.web_max_one = 0.0
        self.delivery: list[float] = []
        #: group -> pid -> CPU seconds at the last sample (processes that ended keep theirs).
        self.cpu: dict[str, dict[int, float]] = {group: {} for group in self.GROUPS}
        self.initial: dict[str, dict[int, float]] = {}
        self.started = time.monotonic()
        self.seconds = 0.0
        #: CPU seconds the whole machine spent on any process while sampled.
        self.machine_busy = 0.0

    def run(self) -> None:
        engine = database_engine()
        try:
            self.sample(engine)
            self.initial = {group: dict(used) for group, used in self.cpu.items()}
            first = _busy()
            while not self.done.wait(5):
                self.sample(engine)
            self.sample(engine)
            self.machine_busy = _busy() - first
        finally:
            engine.dispose()
        self.seconds = time.monotonic() - self.started

    def sample(self, engine: sa.Engine) -> None:
        children = psutil.Process().children(recursive=True)
        gunicorn = [c for c in children if "gunicorn" in " ".join(_cmdline(c))]
        web = [c for c in gunicorn if c.ppid() != os.getpid()]  # not the master
        sizes = [_rss(child) for child in web]
        if sizes:
            self.web.append(sum(sizes))
            self.web_max_one = max(self.web_max_one, max(sizes))
        self.delivery.append(max((_rss(w) for w in self.workers), default=0.0))
        with engine.connect() as connection:
            backends = connection.execute(
                sa.text(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = :name AND pid != pg_backend_pid()"
                ),
                {"name": DATABASE},
            ).scalars()
            database = [psutil.Process(pid) for pid in backends if psutil.pid_exists(pid)]
        locust = [c for c in children if "locust" in " ".join(_cmdline(c))]
        for group, processes in (
            ("web", gunicorn),
            ("database", database),
            ("delivery", self.workers),
            ("locust", locust),
        ):
            for process in processes:
                used = _cpu(process)
                if used is not None:
                    self.cpu[group][process.pid] = used

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds each group used while sampled (processes already running when the
        sampling started count from then)."""
        return {
            group: sum(used.values()) - sum(self.initial.get(group, {}).values())
            for group, used in self.cpu.items()
        }


def _busy() -> float:
    """CPU seconds the machine has spent on processes since it booted (all cores)."""
    times = psutil.cpu_times()._asdict()
    return sum(times.get(name, 0.0) for name in ("user", "nice", "system", "irq", "softirq"))


def _cpu(process: psutil.Process) -> float | None:
    try:
        times = process.cpu_times()
    except psutil.Error:
        return None
    return times.user + times.system


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return []


def _rss(process: psutil.Process) -> float:
    try:
        return process.memory_info().rss / 2**20
    except psutil.Error:
        return 0.0


def locust(host: str, classes: list[str], users: int, minutes: float, prefix: Path, args) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "LOAD_PASSWORD": PASSWORD,
        "LOAD_BANK": str(prefix.parent / "bank.json"),
        "LOAD_LESSONS": ",".join(args.lessons),
        "LOAD_WAIT_MIN": str(args.wait_min),
        "LOAD_WAIT_MAX": str(args.wait_max),
        "LOAD_NOTES": f"{prefix}_notes.json",
    }
    command = [
        str(BIN / "locust"),
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "-u",
        str(users),
        "-r",
        str(args.spawn_rate),
        "-t",
        f"{round(minutes * 60)}s",
        "--stop-timeout",
        "30",
        "--host",
        host,
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
        *classes,
    ]
    with open(f"{prefix}.log", "w") as log:
        result = subprocess.run(command, cwd=ROOT, env=env, stdout=log, stderr=log)  # noqa: S603
    # locust exits 1 when a request failed: the failures are in the CSV and reported.
    if result.returncode not in (0, 1):
        raise RuntimeError(f"locust exited with {result.returncode}; see {prefix}.log")


def read_resent(path: Path) -> dict[str, int]:
    """Requests locust sent again after a reset connection, by name (locustfile.py)."""
    return json.loads(path.read_text())["resent"] if path.exists() else {}


def read_csv(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def database_engine() -> sa.Engine:
    """An engine on the load test's database (psycopg 3)."""
    return sa.create_engine(URL.replace("postgresql://", "postgresql+psycopg://", 1))
