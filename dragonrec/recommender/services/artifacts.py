"""Student artifacts in Django's storage: save a trained model's folder, and get a local folder to load it from
(the storage's own path on disk, or a download cached per host for remote storage such as S3)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from dragonrec.recommender.conf import recommender_settings
from dragonrec.recommender.models import ModelVersion


def _artifact_dir(version: str) -> str:
    return f"{recommender_settings.STUDENT_ARTIFACT_DIR}/{version}"


def artifact_save(*, local_dir: Path, version: str) -> str:
    prefix = _artifact_dir(version)
    for path in sorted(local_dir.rglob("*")):
        if path.is_file():
            default_storage.save(f"{prefix}/{path.relative_to(local_dir).as_posix()}", ContentFile(path.read_bytes()))
    return prefix


def artifact_local_path(version: ModelVersion) -> Path:
    """A local folder with the artifact: the storage's own path when it is on disk, else a cached download."""
    try:
        return Path(default_storage.path(version.artifact))
    except NotImplementedError:  # remote storage (S3, ...): mirror it once per process host
        local = Path(settings.BASE_DIR) / "var" / "cache" / "models" / version.version
        if not local.exists():
            local.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(dir=local.parent))  # same filesystem, so the rename below is atomic
            _download(version.artifact, tmp)
            tmp.rename(local)
        return local


def _download(prefix: str, target: Path) -> None:
    dirs, files = default_storage.listdir(prefix)
    for name in files:
        with default_storage.open(f"{prefix}/{name}") as fh:
            (target / name).write_bytes(fh.read())
    for sub in dirs:
        (target / sub).mkdir(parents=True, exist_ok=True)
        _download(f"{prefix}/{sub}", target / sub)
