"""Figures as files: rendered on first use, kept on disk under a name that changes when the drawing would."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from content import Library
from content.schema import Pose, Technique

# Bump when the renderer draws differently, so cached files and stored file_ids are not reused.
RENDER_VERSION = "1"


@dataclass(frozen=True)
class Picture:
    """One file a step can show: its stable name (also the key for Telegram's file_id) and its path."""

    name: str
    path: Path
    animated: bool


def fingerprint(pose: Pose, technique: Technique) -> str:
    data = {
        "v": RENDER_VERSION,
        "pose": pose.model_dump(mode="json"),
        "title": technique.title,
        "sides": technique.sides.value,
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:10]


def _write(path: Path, data: bytes) -> None:
    # Atomic: a reader never sees half a file, and two processes rendering at once both succeed.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


class FigureStore:
    """Renders a technique's figure and animation once per pose and keeps them in `directory`."""

    def __init__(self, library: Library, directory: Path) -> None:
        self.library = library
        self.directory = directory
        # What this process has drawn or found, so a step does not hash its pose again.
        self._ready: dict[str, Picture] = {}

    def ready(self, technique_id: str) -> Picture | None:
        """The step's picture if it is already on disk and known to this process (no drawing, no hashing)."""
        picture = self._ready.get(technique_id)
        return picture if picture is not None and picture.path.exists() else None

    def figure(self, technique_id: str) -> Picture:
        pose, technique = self.library.poses[technique_id], self.library.techniques[technique_id]
        name = f"{technique_id}-{fingerprint(pose, technique)}.png"
        path = self.directory / name
        if not path.exists():
            from figures import render

            _write(path, render.figure_png(pose, technique))
        return Picture(name=name, path=path, animated=False)

    def animation(self, technique_id: str) -> Picture | None:
        pose, technique = self.library.poses[technique_id], self.library.techniques[technique_id]
        if not pose.animate:
            return None
        name = f"{technique_id}-{fingerprint(pose, technique)}.gif"
        path = self.directory / name
        if not path.exists():
            from figures import render

            _write(path, render.animation_gif(pose, technique))
        return Picture(name=name, path=path, animated=True)

    def preview(self, title: str, cells: list[tuple[str, str]]) -> Picture:
        """A routine's steps in one picture: (label, technique id) per cell, each its figure."""
        prints = [fingerprint(self.library.poses[tid], self.library.techniques[tid]) for _, tid in cells]
        key = json.dumps([RENDER_VERSION, title, [label for label, _ in cells], prints])
        name = f"preview-{hashlib.sha256(key.encode()).hexdigest()[:16]}.png"
        path = self.directory / name
        if not path.exists():
            from figures import render

            _write(
                path,
                render.preview_sheet(title, [(label, self.library.poses[tid]) for label, tid in cells]),
            )
        return Picture(name=name, path=path, animated=False)

    def for_step(self, technique_id: str) -> Picture:
        """What a step shows: the animation of a moving technique, else its figure."""
        picture = self.animation(technique_id) or self.figure(technique_id)
        self._ready[technique_id] = picture
        return picture


def render_all(library: Library, out: Path) -> list[Path]:
    """Every figure, every animation (with a still strip of it) and a contact sheet beside the steps."""
    from figures import render

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    sheet_items = []
    for tid in sorted(library.techniques):
        pose, technique = library.poses[tid], library.techniques[tid]
        png = render.figure_png(pose, technique)
        _write(out / f"{tid}.png", png)
        written.append(out / f"{tid}.png")
        sheet_items.append((technique, png))
        if pose.animate:
            gif = render.animation_gif(pose, technique)
            _write(out / f"{tid}.gif", gif)
            _write(out / f"{tid}-frames.png", render.gif_strip_png(gif))
            written += [out / f"{tid}.gif", out / f"{tid}-frames.png"]
    _write(out / "contact-sheet.png", render.contact_sheet(sheet_items))
    written.append(out / "contact-sheet.png")
    return written
