"""DragonRec installed from its wheel into a shop that is not ours (tests/host_project), the way the README's
"Plug it into an existing shop" says: pip install, INSTALLED_APPS, URLs, settings, migrate, embed, serve."""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from config import embedded
from tests.databases import libpq_dsn

HOST = Path(__file__).resolve().parent
REPO = HOST.parent.parent

pytestmark = pytest.mark.slow


def run(cmd: list[str], *, env: dict[str, str] | None = None, cwd: Path = HOST) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(cmd)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # setuptools copies into build/ and never prunes it: a module deleted since the last build would ship
    shutil.rmtree(REPO / "build", ignore_errors=True)
    # --no-build-isolation: setuptools is already here, so no download happens inside the test.
    run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation", "-w", str(out), "-q"])
    (built,) = out.glob("dragonrec-*.whl")
    return built


@pytest.fixture(scope="module")
def host_python(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed. The dependencies already installed in our own
    environment are made visible through a .pth file (so pip resolves them without downloading anything);
    DragonRec itself comes only from the wheel: the repository is not on the host's path."""
    venv = tmp_path_factory.mktemp("hostvenv")
    # Without the setuptools that `venv` bundles (65.x): it would shadow the newer one torch declares.
    run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", "--without-pip", str(venv)])
    py = venv / "bin" / "python"
    purelib = run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip()
    (Path(purelib) / "dragonrec_test_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    pip(py, "install", "--no-index", "-q", f"{wheel}[teacher,student]")
    return py


def pip(py: Path, *args: str) -> str:
    """Our pip, acting on the host's environment."""
    return run([sys.executable, "-m", "pip", "--python", str(py), *args])


@pytest.fixture(scope="module")
def host_env() -> Iterator[dict[str, str]]:
    import psycopg

    embedded.start()
    name = f"host_shop_{uuid.uuid4().hex[:8]}"
    admin_url = embedded.database_url()
    with psycopg.connect(libpq_dsn("postgres", admin_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/root"),
        "DATABASE_URL": admin_url.rsplit("/", 1)[0] + "/" + name,
        "REDIS_URL": embedded.redis_url().rsplit("/", 1)[0] + "/11",  # the suite uses 8-10, the demo 0-1
        "HF_HUB_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
    }
    # a fresh database wants a fresh cache: what an earlier run left in db 11 (catalog snapshots, fatigue, cached
    # lists keyed by product ids that the new database hands out again) must not leak into this shop
    _flush_redis(env["REDIS_URL"])
    yield env
    _flush_redis(env["REDIS_URL"])
    with psycopg.connect(libpq_dsn("postgres", admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


def test_the_wheel_installs_into_a_fresh_environment_without_the_repository(host_python: Path) -> None:
    where = run([str(host_python), "-c", "import dragonrec, catalog; print(dragonrec.__file__, catalog.__file__)"])
    ours, theirs = where.split()
    assert "site-packages" in ours and str(REPO) not in ours
    assert theirs.startswith(str(HOST)), "the shop's own `catalog` app must win its name"
    assert "No broken requirements" in pip(host_python, "check")


def test_a_host_shop_migrates_and_serves_its_own_products(host_python: Path, host_env: dict[str, str]) -> None:
    manage = [str(host_python), "manage.py"]
    run([*manage, "check", "--database", "default"], env=host_env)
    run([*manage, "migrate", "--no-input", "-v", "0"], env=host_env)
    tables = run(
        [*manage, "shell", "-c", "from django.db import connection; print(connection.introspection.table_names())"],
        env=host_env,
    )
    assert "catalog_category" in tables and "catalog_product" in tables  # the shop's own
    assert "dragonrec_tracking_event" in tables and "dragonrec_recommender_servedlist" in tables
    assert "dragonrec_catalog_product" not in tables  # DragonRec's product model is swapped out for shop.Product

    run([*manage, "shop_seed"], env=host_env)
    run([*manage, "recommender_embed", "--no-progress"], env=host_env)
    out = json.loads(run([*manage, "shop_smoke"], env=host_env).strip().splitlines()[-1])

    status, results = out["events"]
    assert status == 200 and results == ["accepted"] * 4 + ["rejected"]
    products = {int(k): v for k, v in out["products"].items()}
    for name in ("home", "product", "similar", "complements"):
        status, ids = out[name]
        assert status == 200, name
        assert ids and set(ids) <= set(products), f"{name} must list the shop's own products: {ids}"
    assert set(out["similar_first"]) == {"id", "name", "maker", "section_path", "cost"}  # the shop's serializer
    assert out["monitor"] not in out["similar"][1]
    # Nearest by text: the other monitors before the tea; what goes with a monitor is not cookware.
    assert products[out["similar"][1][0]].endswith("Monitors")
    assert all(products[i].startswith("Computers") for i in out["complements"][1][:2])


def test_the_wheel_holds_the_apps_and_nothing_of_the_project(wheel: Path) -> None:
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    for app in ("catalog", "tracking", "recommender"):
        assert f"dragonrec/{app}/apps.py" in names
        assert f"dragonrec/{app}/migrations/0001_initial.py" in names
    assert "dragonrec/recommender/templates/admin/dragonrec_recommender/modelversion/compare.html" in names
    assert "dragonrec/recommender/management/commands/recommender_train.py" in names
    assert "dragonrec/catalog/demo/products.jsonl" in names
    assert "dragonrec/catalog/demo/behaviour.json" in names  # the demo session generator's tables are data
    assert "dragonrec/catalog/demo/build_products.py" not in names  # the catalog is data, not 3,000 lines of calls
    assert not [n for n in names if n.split("/")[0] in {"config", "tests", "bench", "scripts", "frontend"}]


def test_the_wheel_declares_ranges_and_extras(wheel: Path) -> None:
    import zipfile
    from email.parser import Parser

    (meta_name,) = [n for n in zipfile.ZipFile(wheel).namelist() if n.endswith(".dist-info/METADATA")]
    meta = Parser().parsestr(zipfile.ZipFile(wheel).read(meta_name).decode())
    requires = meta.get_all("Requires-Dist")
    assert {"teacher", "student", "embedded"} <= set(meta.get_all("Provides-Extra"))
    core = [r for r in requires if "extra ==" not in r]
    assert any(r.startswith("django") and ">=5.2" in r and "<6" in r for r in (c.lower() for c in core))
    assert not [r for r in requires if "==" in r.split(";")[0]], "a library declares ranges, not pins"
    assert any(r.startswith("openai") and 'extra == "teacher"' in r for r in requires)
    assert "Framework :: Django :: 5.2" in meta.get_all("Classifier")
    assert meta["Requires-Python"] == ">=3.11" and meta["License-Expression"] == "MIT"
