"""Drawing a technique's figure (PNG), its animation (GIF) and contact sheets with matplotlib's Agg canvas.

Deterministic: the same pose gives the same bytes (no timestamps in the files, fixed palette for GIFs).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

import itertools

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Ellipse, FancyArrowPatch, FancyBboxPatch, Polygon, Rectangle
from PIL import Image

from content.schema import Pose, Region, SupportKind, Technique, View
from figures import body
from figures.body import Frame, Part

# Okabe-Ito: distinguishable with every common colour-vision deficiency.
HIGHLIGHT = "#E69F00"
HIGHLIGHT_EDGE = "#8A5A00"
ARROW = "#0072B2"
NEAR = "#7D8B9C"
FAR = "#B9C3CF"
TORSO = "#8E9BAA"
OUTLINE = "#26303B"
GHOST = "#9AA5B1"
KNEE = "#C3CCD6"
FLOOR = "#6B6B6B"
COLOURS = {
    SupportKind.mat: "#8DBFA8",
    SupportKind.chair: "#B08D57",
    SupportKind.bed: "#E6DDC6",
    SupportKind.wall: "#D9D9D9",
    SupportKind.step: "#A8A8A8",
    SupportKind.cushion: "#C7B3D6",
    SupportKind.pillow: "#EFE9DA",
    SupportKind.ball: "#D8E05A",
    SupportKind.roll: "#C9A97A",
    SupportKind.strap: "#7A5230",
}
DPI = 100
PANEL_HEIGHT = 3.0  # inches
PNG_META = {"Software": None}


def _canvas(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata=PNG_META)
    return buf.getvalue()


def _capsule(ax: Axes, part: Part, fill: str, *, zorder: float, alpha: float = 1.0, edge: str = OUTLINE) -> None:
    (x0, y0, _), (x1, y1, _) = part.start, part.end
    dx, dy = x1 - x0, y1 - y0
    n = math.hypot(dx, dy)
    if n < 1e-6:
        ax.add_patch(Circle((x0, y0), max(part.r0, part.r1), fc=fill, ec=edge, lw=1.2, zorder=zorder, alpha=alpha))
        return
    px, py = -dy / n, dx / n
    # The outline of a tapered capsule: two arcs joined by straight sides.
    pts = []
    steps = 10
    base = math.atan2(py, px)
    for i in range(steps + 1):
        a = base + math.pi * i / steps
        pts.append((x0 + part.r0 * math.cos(a), y0 + part.r0 * math.sin(a)))
    for i in range(steps + 1):
        a = base + math.pi + math.pi * i / steps
        pts.append((x1 + part.r1 * math.cos(a), y1 + part.r1 * math.sin(a)))
    ax.add_patch(Polygon(pts, closed=True, fc=fill, ec=edge, lw=1.2, zorder=zorder, alpha=alpha, joinstyle="round"))


def _depth(part: Part) -> float:
    return (part.start[2] + part.end[2]) / 2


def _part_colour(pose: Pose, part: Part) -> str:
    if part.side is None:
        return TORSO
    if pose.view is View.side:
        return NEAR if part.side == body.near_side(pose) else FAR
    return NEAR if _depth(part) >= -0.01 else FAR


def draw_body(ax: Axes, pose: Pose, frame: Frame, *, ghost: bool = False, only: set[str] | None = None) -> None:
    """The filled figure; a ghost is a faint outline of an earlier keyframe, optionally of some parts only."""
    base_z = 2.0 if ghost else 10.0
    order = sorted(frame.parts, key=_depth)
    head_p, head_r = frame.head
    ranks = {part.name: rank for rank, part in enumerate(order)}
    for rank, part in enumerate(order):
        if only is not None and part.name not in only:
            continue
        z = base_z + rank * 0.1
        if ghost:
            _capsule(ax, part, "none", zorder=z, edge=GHOST)
        else:
            _capsule(ax, part, _part_colour(pose, part), zorder=z)
        if part.name.startswith("shin_") and pose.view is not View.side and not ghost:
            side = part.name[-1]
            if abs(frame.tilts.get(f"thigh_{side}", 0.0)) > 15:
                # Seen end-on, a bent knee is the nearest point: a lighter cap shows the bend.
                thigh = next(p for p in frame.parts if p.name == f"thigh_{side}")
                knee = frame.joints[f"knee_{side}"]
                cap_z = base_z + max(rank, ranks[thigh.name]) * 0.1 + 0.05
                ax.add_patch(Circle(knee[:2], thigh.r1 * 1.25, fc=KNEE, ec=OUTLINE, lw=1.2, zorder=cap_z))
        if part.name.startswith("forearm_"):
            hand, r = frame.hands[part.name[-1]]
            if ghost:
                ax.add_patch(Circle(hand[:2], r, fc="none", ec=GHOST, lw=1.0, ls="--", zorder=z))
            else:
                ax.add_patch(Circle(hand[:2], r, fc=_part_colour(pose, part), ec=OUTLINE, lw=1.2, zorder=z + 0.05))
        if part.name == "head":
            if ghost and only is not None and "head" not in only:
                continue
            hz = z + 0.05
            if ghost:
                ax.add_patch(Circle(head_p[:2], head_r, fc="none", ec=GHOST, lw=1.0, ls="--", zorder=hz))
            else:
                ax.add_patch(Circle(head_p[:2], head_r, fc=TORSO, ec=OUTLINE, lw=1.2, zorder=hz))
                if pose.view is View.side:
                    _nose(ax, pose, frame, hz)


def _nose(ax: Axes, pose: Pose, frame: Frame, z: float) -> None:
    (hx, hy, _), r = frame.head
    nx, ny, _ = frame.joints["neck"]
    ux, uy = hx - nx, hy - ny
    n = math.hypot(ux, uy) or 1.0
    ux, uy = ux / n, uy / n
    # The face looks the way the front of the body does.
    ax_, ay_ = uy * (1 if pose.facing == "right" else -1), -ux * (1 if pose.facing == "right" else -1)
    tip = (hx + ax_ * (r + 0.03), hy + ay_ * (r + 0.03))
    a = (hx + ax_ * r * 0.9 + ux * 0.03, hy + ay_ * r * 0.9 + uy * 0.03)
    b = (hx + ax_ * r * 0.9 - ux * 0.02, hy + ay_ * r * 0.9 - uy * 0.02)
    ax.add_patch(Polygon([a, tip, b], closed=True, fc=TORSO, ec=OUTLINE, lw=1.0, zorder=z - 0.01))


def _anterior(pose: Pose, name: str, frame: Frame) -> tuple[float, float]:
    """The picture direction of a part's front surface (side views)."""
    j = frame.joints
    if name in ("trunk", "pelvis"):
        a, b = (j["lumbar"], j["neck"]) if name == "trunk" else (j["hip"], j["lumbar"])
        sign = -1
    else:
        w = name[-1]
        a, b = j[f"hip_{w}"], j[f"knee_{w}"]
        sign = 1
    dx, dy = b[0] - a[0], b[1] - a[1]
    n = math.hypot(dx, dy) or 1.0
    if pose.facing == "left":
        sign = -sign
    return (-sign * dy / n, sign * dx / n)


def draw_highlight(ax: Axes, pose: Pose, frame: Frame) -> None:
    working = (pose.working_side or "right")[0]
    for region in pose.highlight:
        centre, direction, half = body.region_anchor(region, frame, working)
        cx, cy = centre[0], centre[1]
        host = {
            Region.low_back: "trunk",
            Region.core: "trunk",
            Region.pelvis: "pelvis",
            Region.glutes: "pelvis",
            Region.hip_front: f"thigh_{working}",
            Region.hip_side: f"thigh_{working}",
            Region.hamstrings: f"thigh_{working}",
        }[region]
        part = next(p for p in frame.parts if p.name == host)
        radius = (part.r0 + part.r1) / 2
        surface = body.region_surface(region)
        if pose.view is View.side and surface:
            ox, oy = _anterior(pose, host, frame)
            cx, cy = cx + surface * ox * radius * 0.6, cy + surface * oy * radius * 0.6
        elif pose.view is not View.side and region in (Region.hip_side, Region.glutes):
            hip, hw = frame.joints["hip"], frame.joints[f"hip_{working}"]
            cx, cy = hw[0] + (hw[0] - hip[0]) * 0.6, hw[1] + (hw[1] - hip[1]) * 0.6
        angle = math.degrees(math.atan2(direction[1], direction[0]))
        ax.add_patch(
            Ellipse(
                (cx, cy),
                width=2 * half,
                height=radius * 0.9,
                angle=angle,
                fc=HIGHLIGHT,
                ec=HIGHLIGHT_EDGE,
                lw=0.8,
                alpha=0.88,
                hatch="//",
                zorder=30,
            )
        )


def draw_supports(ax: Axes, pose: Pose, frame: Frame, xlim: tuple[float, float]) -> None:
    if pose.view is not View.top:
        ax.add_patch(Rectangle((xlim[0], -0.06), xlim[1] - xlim[0], 0.06, fc="#EDEDED", ec="none", zorder=0))
        ax.plot(list(xlim), [0, 0], color=FLOOR, lw=1.5, zorder=1)
    for support in body.scene_supports(pose):
        colour = COLOURS[support.kind]
        x, y = support.x, support.y
        match support.kind:
            case SupportKind.strap:
                a, b = (frame.joints[name] for name in support.between or ())
                ax.plot([a[0], b[0]], [a[1], b[1]], color=colour, lw=3.0, solid_capstyle="round", zorder=40)
                continue
            case SupportKind.ball | SupportKind.roll if pose.view is View.top:
                # Under the body: shown through it, dashed.
                r = body.BALL_RADIUS if support.kind is SupportKind.ball else body.ROLL_RADIUS
                ax.add_patch(Circle((x, y), r, fc=colour, ec="#333333", lw=1.2, ls="--", alpha=0.9, zorder=45))
                continue
            case SupportKind.mat if pose.view is View.top:
                w = support.width or 1.9
                ax.add_patch(Rectangle((x, y - 0.4), w, 0.8, fc=colour, ec="#5E8F78", lw=1.0, zorder=1))
                continue
            case SupportKind.wall if support.side == "behind":
                w = support.width or 1.2
                ax.add_patch(
                    Rectangle((x, y), w, 1.9, fc=colour, ec="#B5B5B5", lw=1.0, hatch="..", alpha=0.6, zorder=0.5)
                )
                continue
            case SupportKind.chair:
                seat0, _seat1 = body.CHAIR_SEAT
                for leg in (x + 0.02, x + body.CHAIR_DEPTH - 0.05):
                    ax.add_patch(Rectangle((leg, y), 0.03, seat0, fc=colour, ec="#6E5530", lw=0.8, zorder=3))
            case SupportKind.bed:
                w = support.width or 2.0
                for leg in (x + 0.05, x + w - 0.1):
                    ax.add_patch(Rectangle((leg, y), 0.05, 0.3, fc="#9C8A6A", ec="#6E5530", lw=0.8, zorder=3))
                ax.add_patch(Rectangle((x, y + 0.3), w, 0.07, fc="#9C8A6A", ec="#6E5530", lw=0.8, zorder=3))
                ax.add_patch(
                    FancyBboxPatch(
                        (x, y + 0.37),
                        w,
                        body.BED_TOP - 0.37,
                        boxstyle="round,pad=0,rounding_size=0.04",
                        fc=colour,
                        ec="#8F8467",
                        lw=1.0,
                        zorder=3,
                    )
                )
                continue
        for solid in body.solids(support):
            if solid.disc is not None:
                cx, cy, r = solid.disc
                ax.add_patch(Circle((cx, cy), r, fc=colour, ec="#555555", lw=1.0, zorder=3))
            elif solid.box is not None:
                x0, x1, y0, y1 = solid.box
                rounded = support.kind in (SupportKind.cushion, SupportKind.pillow)
                ax.add_patch(
                    FancyBboxPatch(
                        (x0, y0),
                        x1 - x0,
                        y1 - y0,
                        boxstyle=f"round,pad=0,rounding_size={0.03 if rounded else 0.004}",
                        fc=colour,
                        ec="#555555",
                        lw=1.0,
                        zorder=3,
                        hatch="//" if support.kind is SupportKind.wall else None,
                    )
                )


def _bounds(pose: Pose, frame_list: Sequence[Frame]) -> tuple[tuple[float, float], tuple[float, float]]:
    xs, ys = [], []
    for frame in frame_list:
        for p, r in frame.samples():
            xs += [p[0] - r, p[0] + r]
            ys += [p[1] - r, p[1] + r]
    for support in body.scene_supports(pose):
        if support.kind is SupportKind.wall and support.side == "behind":
            xs += [support.x, support.x + (support.width or 1.2)]
        for solid in body.solids(support):
            if solid.box is not None and support.kind is not SupportKind.wall:
                xs += [solid.box[0], solid.box[1]]
                ys += [solid.box[3]]
            elif solid.box is not None:
                xs += [solid.box[0], solid.box[1]]
    if pose.view is View.top:
        ys += [-0.45, 0.45]
    else:
        ys.append(0.0)
    pad = 0.12
    x0, x1 = min(xs) - pad, max(xs) + pad
    # Room at the top for the keyframe's label.
    y0, y1 = min(ys) - (0.02 if pose.view is not View.top else pad), max(ys) + pad + 0.12
    if pose.view is not View.top:
        y0 = -0.06
    # Not too wide and thin: room for the arrow.
    if (x1 - x0) / (y1 - y0) > 2.4:
        grow = (x1 - x0) / 2.4 - (y1 - y0)
        y1 += grow
    return (x0, x1), (y0, y1)


def _arrow(ax: Axes, pose: Pose, frame_list: Sequence[Frame], upto: int) -> None:
    points = [frame_list[i].joints[pose.arrow][:2] for i in range(upto + 1)]
    for a, b in itertools.pairwise(points):
        (ax0, ay0), (bx, by) = a, b
        dx, dy = bx - ax0, by - ay0
        n = math.hypot(dx, dy)
        if n < 0.005:
            continue
        if n < 0.09:
            # A small movement still gets an arrow long enough to see, centred on the movement.
            k = 0.09 / n
            mx, my = (ax0 + bx) / 2, (ay0 + by) / 2
            ax0, ay0, bx, by = mx - dx * k / 2, my - dy * k / 2, mx + dx * k / 2, my + dy * k / 2
        ax.add_patch(
            FancyArrowPatch(
                (ax0, ay0),
                (bx, by),
                connectionstyle="arc3,rad=0.25",
                arrowstyle="-|>,head_length=6,head_width=4",
                color=ARROW,
                lw=2.4,
                zorder=50,
                shrinkA=0,
                shrinkB=0,
            )
        )


def _style(ax: Axes, xlim: tuple[float, float], ylim: tuple[float, float]) -> None:
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.set_axis_off()


def _fitting(text: str, width_in: float, size: float) -> float:
    """A font size at most `size` at which bold text of this length fits in `width_in` inches."""
    return min(size, width_in * 72 / (0.68 * max(len(text), 1)))


def side_note(pose: Pose, technique: Technique) -> str:
    """The line under a figure naming the side shown (the words live with the pictures, not in views)."""
    if pose.working_side is None:
        return ""
    side = pose.working_side
    if technique.sides.value == "both":
        return f"{side.capitalize()} side shown, then switch"
    return f"{side.capitalize()} side"


def figure_png(pose: Pose, technique: Technique) -> bytes:
    """Every keyframe side by side, the motion arrow and a ghost of the keyframe before in each later one."""
    frame_list = body.frames(pose)
    xlim, ylim = _bounds(pose, frame_list)
    n = len(frame_list)
    panel_w = PANEL_HEIGHT * (xlim[1] - xlim[0]) / (ylim[1] - ylim[0])
    fig = Figure(figsize=(panel_w * n + 0.2, PANEL_HEIGHT + 0.85), facecolor="white")
    moved = body.moved_segments(pose)
    for i, frame in enumerate(frame_list):
        ax = fig.add_axes(
            (
                (0.1 + i * panel_w) / (panel_w * n + 0.2),
                0.3 / (PANEL_HEIGHT + 0.85),
                panel_w / (panel_w * n + 0.2),
                PANEL_HEIGHT / (PANEL_HEIGHT + 0.85),
            )
        )
        _style(ax, xlim, ylim)
        draw_supports(ax, pose, frame, xlim)
        if i:
            draw_body(ax, pose, frame_list[i - 1], ghost=True, only=moved | {"head"} if "head" in moved else moved)
            _arrow(ax, pose, frame_list, i)
        draw_body(ax, pose, frame)
        draw_highlight(ax, pose, frame)
        ax.text(
            0.02,
            0.97,
            f"{i + 1}  {pose.keyframes[i].label}",
            transform=ax.transAxes,
            ha="left",
            va="top",
            fontsize=_fitting(f"{i + 1}  {pose.keyframes[i].label}", panel_w - 0.1, 11),
            color=OUTLINE,
            fontweight="bold",
            zorder=60,
        )
    fig.text(
        0.5,
        1 - 0.08 / (PANEL_HEIGHT + 0.85),
        technique.title,
        ha="center",
        va="top",
        fontsize=_fitting(technique.title, panel_w * n, 13),
        fontweight="bold",
        color=OUTLINE,
    )
    note = side_note(pose, technique)
    width_in = panel_w * n + 0.2
    legend_y = 0.12 / (PANEL_HEIGHT + 0.85)

    def at(inches: float) -> float:
        return inches / width_in

    fig.patches.append(
        Ellipse(
            (at(0.25), legend_y + 0.01),
            at(0.2),
            0.04,
            transform=fig.transFigure,
            fc=HIGHLIGHT,
            ec=HIGHLIGHT_EDGE,
            hatch="//",
            figure=fig,
        )
    )
    fig.text(at(0.42), legend_y, "feel it here", fontsize=9, color=OUTLINE, va="bottom")
    fig.patches.append(
        FancyArrowPatch(
            (at(1.35), legend_y + 0.012),
            (at(1.7), legend_y + 0.012),
            transform=fig.transFigure,
            arrowstyle="-|>,head_length=5,head_width=3",
            color=ARROW,
            lw=2,
            figure=fig,
        )
    )
    fig.text(at(1.78), legend_y, "movement", fontsize=9, color=OUTLINE, va="bottom")
    if note:
        fig.text(
            0.5,
            1 - 0.34 / (PANEL_HEIGHT + 0.85),
            note,
            fontsize=9,
            color=OUTLINE,
            va="top",
            ha="center",
            style="italic",
        )
    return _canvas(fig)


def _frame_rgb(
    pose: Pose, frame: Frame, xlim: tuple[float, float], ylim: tuple[float, float], title: str
) -> Image.Image:
    width = 4.8
    height = width * (ylim[1] - ylim[0]) / (xlim[1] - xlim[0]) + 0.4
    fig = Figure(figsize=(width, height), facecolor="white")
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, (height - 0.4) / height))
    _style(ax, xlim, ylim)
    draw_supports(ax, pose, frame, xlim)
    draw_body(ax, pose, frame)
    draw_highlight(ax, pose, frame)
    fig.text(0.5, 1 - 0.06 / height, title, ha="center", va="top", fontsize=11, fontweight="bold", color=OUTLINE)
    canvas.draw()
    rgba = canvas.buffer_rgba()
    return Image.frombuffer("RGBA", canvas.get_width_height(), bytes(rgba), "raw", "RGBA", 0, 1).convert("RGB")


ANIMATION_STEPS = 9  # frames per movement between two keyframes
ANIMATION_MS = 110


def animation_frames(pose: Pose) -> list[Frame]:
    """There and back through the keyframes, pausing at each end."""
    n = len(pose.keyframes)
    path = list(range(n)) + list(range(n - 2, -1, -1))
    out: list[Frame] = []
    for a, b in itertools.pairwise(path):
        out += [body.between(pose, a, b, i / ANIMATION_STEPS) for i in range(ANIMATION_STEPS)]
        if b in (0, n - 1):
            out += [body.between(pose, a, b, 1.0)] * 3
    return out


def animation_gif(pose: Pose, technique: Technique) -> bytes:
    frame_list = animation_frames(pose)
    xlim, ylim = _bounds(pose, frame_list)
    images = [_frame_rgb(pose, f, xlim, ylim, technique.title) for f in frame_list]
    # One fixed palette from the first frame keeps colours steady and the bytes deterministic.
    palette = images[0].quantize(colors=48, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    frames_p = [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in images]
    buf = io.BytesIO()
    frames_p[0].save(
        buf, format="GIF", save_all=True, append_images=frames_p[1:], duration=ANIMATION_MS, loop=0, optimize=False
    )
    return buf.getvalue()


def gif_strip_png(gif: bytes, every: int = 4) -> bytes:
    """Every few frames of a GIF side by side in one PNG, to look at an animation as a still."""
    im = Image.open(io.BytesIO(gif))
    frames_rgb = []
    for i in range(getattr(im, "n_frames", 1)):
        im.seek(i)
        if i % every == 0:
            frames_rgb.append(im.convert("RGB"))
    w, h = frames_rgb[0].size
    cols = min(len(frames_rgb), 5)
    rows = math.ceil(len(frames_rgb) / cols)
    sheet = Image.new("RGB", (w * cols, h * rows), "white")
    for i, f in enumerate(frames_rgb):
        sheet.paste(f, ((i % cols) * w, (i // cols) * h))
    buf = io.BytesIO()
    sheet.save(buf, format="PNG")
    return buf.getvalue()


def contact_sheet(items: Sequence[tuple[Technique, bytes]], *, columns: int = 2, with_steps: bool = True) -> bytes:
    """Every figure in a grid, each beside its technique's steps, for reviewing them together."""
    cell_w, img_h, text_h = 6.4, 2.6, 1.55 if with_steps else 0.0
    rows = math.ceil(len(items) / columns)
    fig = Figure(figsize=(cell_w * columns, (img_h + text_h + 0.15) * rows), facecolor="white")
    total_h = (img_h + text_h + 0.15) * rows
    for index, (technique, png) in enumerate(items):
        row, col = divmod(index, columns)
        top = total_h - row * (img_h + text_h + 0.15)
        ax = fig.add_axes((col / columns, (top - img_h) / total_h, 1 / columns, img_h / total_h))
        ax.imshow(Image.open(io.BytesIO(png)).convert("RGB"), interpolation="antialiased")
        ax.set_axis_off()
        if with_steps:
            lines = [f"{i + 1}. {step}" for i, step in enumerate(technique.steps)]
            fig.text(
                (col + 0.02) / columns,
                (top - img_h - 0.05) / total_h,
                _wrap(lines, 118),
                fontsize=6.4,
                va="top",
                ha="left",
                color=OUTLINE,
                family="DejaVu Sans",
            )
    return _canvas(fig)


def _wrap(lines: list[str], width: int) -> str:
    import textwrap

    return "\n".join(textwrap.fill(line, width, subsequent_indent="   ") for line in lines)


def key_pose(pose: Pose) -> Image.Image:
    """A technique's last keyframe alone: the position it is held in, with its highlighted region."""
    frame = body.frames(pose)[-1]
    xlim, ylim = _bounds(pose, body.frames(pose))
    return _frame_rgb(pose, frame, xlim, ylim, "")


def preview_sheet(title: str, cells: Sequence[tuple[str, Pose]], *, columns: int = 2) -> bytes:
    """A routine before it starts: every step's key pose in order, each under its number, name and time."""
    cell_w, img_h, label_h, title_h = 5.0, 1.9, 0.32, 0.5
    rows = math.ceil(len(cells) / columns)
    total_h = title_h + rows * (img_h + label_h)
    fig = Figure(figsize=(cell_w * columns, total_h), facecolor="white")
    fig.text(0.5, 1 - 0.12 / total_h, title, ha="center", va="top", fontsize=15, fontweight="bold", color=OUTLINE)
    for index, (label, pose) in enumerate(cells):
        row, col = divmod(index, columns)
        top = total_h - title_h - row * (img_h + label_h)
        fig.text(
            (col + 0.03) / columns,
            (top - 0.04) / total_h,
            label,
            fontsize=10.5,
            fontweight="bold",
            va="top",
            ha="left",
            color=OUTLINE,
        )
        ax = fig.add_axes(
            (col / columns + 0.01, (top - label_h - img_h) / total_h, 1 / columns - 0.02, img_h / total_h)
        )
        ax.imshow(key_pose(pose), interpolation="antialiased")
        ax.set_axis_off()
    return _canvas(fig)
